/**
 * A body a parser mounted before scim-sso produced, told apart from what a parser leaves when it skipped the
 * body: Koa's body parsers (koa-bodyparser, @koa/bodyparser) set `ctx.request.body = {}` for a request whose
 * Content-Type they do not take (or that has none) and leave its stream unread, where Express's leave
 * `req.body` undefined. Taken as the body, that `{}` made a valid POST without a Content-Type a 400 on Koa
 * only. A parser that took the body has read the request to its end; otherwise the body is still to be read
 * (or refused) as if no parser were mounted.
 */
import type { IncomingMessage } from 'node:http';

/** `parsedBody` when a parser read the request to produce it, else undefined. */
export function parsedBodyOf(node: IncomingMessage, parsedBody: unknown): unknown {
  return parsedBody !== undefined && node.readableEnded ? parsedBody : undefined;
}
