/**
 * A body a parser mounted before scim-sso produced, told apart from what a parser leaves when it skipped the
 * body: Koa's body parsers (koa-bodyparser, @koa/bodyparser) set `ctx.request.body = {}` for a request whose
 * Content-Type they do not take (or that has none) and leave its stream unread, where Express's leave
 * `req.body` undefined. Taken as the body, that `{}` made a valid POST without a Content-Type a 400 on Koa
 * only. A parser that took the body has read the request to its end; otherwise the body is still to be read
 * (or refused) as if no parser were mounted.
 */
import type { IncomingMessage } from 'node:http';

/** Whether the request declares a body: a non-zero Content-Length, or a chunked one (RFC 9112 §6.3). */
export function declaresBody(headers: IncomingMessage['headers']): boolean {
  return (headers['content-length'] !== undefined && headers['content-length'] !== '0') || /chunked/i.test(String(headers['transfer-encoding'] ?? ''));
}

/**
 * `parsedBody` when a parser read the request to produce it, else undefined. A request that declares no body
 * (no Content-Length and no Transfer-Encoding, or `Content-Length: 0`) has none, whatever a parser set:
 * body parsers answer an empty body with `{}`, which a `.search` took as a SearchRequest listing everything
 * (an audit of 2026-12-06; without a parser the same request is a 400). A chunked body of zero bytes
 * cannot be told from a sent `{}` by its headers: a parser's `{}` is taken then.
 */
export function parsedBodyOf(node: IncomingMessage, parsedBody: unknown): unknown {
  return parsedBody !== undefined && node.readableEnded && declaresBody(node.headers) ? parsedBody : undefined;
}
