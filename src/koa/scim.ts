/**
 * The Koa adapter of the SCIM routes: a thin translation between Koa and the neutral SCIM handler, as
 * src/express/scim.ts is for Express.
 */
import type { Context, Middleware, Next } from 'koa';
import type { ScimHandler } from '../scim/handler.js';
import type { ScimResponse } from '../scim/http.js';
import { requestOrigin, settleUnreadBody, toScimRequest, type ScimMountOptions } from '../scim/mount.js';
import { writeBody } from '../scim/response-body.js';

function sendScim(ctx: Context, response: ScimResponse): void {
  ctx.status = response.status;
  // Headers first: Koa keeps an explicit Content-Type when the body is set.
  for (const [name, value] of Object.entries(response.headers)) ctx.set(name, value);
  const { body } = response;
  if (body === undefined) {
    ctx.body = null;
    ctx.remove('Content-Type');
  } else if (typeof body === 'string') ctx.body = body;
  else {
    // A large body's encoded parts (src/scim/response-body.ts), written to the socket as the Express adapter
    // writes them, within BODY_SEND_MS: a stream body also made Koa report "Premature close" for every client
    // that left before its end (a read ECONNRESET of such a client Koa reports on any route).
    ctx.respond = false;
    writeBody(ctx.res, body, response.sent);
  }
}

/** The mount prefix koa-mount stripped from `ctx.url`, if any. */
function mountPrefix(ctx: Context): string {
  const original = ctx.originalUrl ?? ctx.url;
  return original.endsWith(ctx.url) ? original.slice(0, original.length - ctx.url.length) : '';
}

/**
 * The Host the request names, as sent (X-Forwarded-Host first when the app trusts its proxy), for
 * requestOrigin to judge as it judges Express's: `ctx.host` turns an invalid `user@evil.test` into
 * `evil.test`, where Express's answer falls back to `localhost`.
 */
const rawHost = (ctx: Context): string => (ctx.app.proxy ? ctx.get('X-Forwarded-Host') : '') || ctx.get('Host') || ctx.get(':authority');

/** Koa middleware serving the SCIM routes under `basePath` and passing every other request on. */
export function koaScimMiddleware(handler: ScimHandler, options: ScimMountOptions): Middleware {
  return async function scimSsoKoa(ctx: Context, next: Next) {
    const request = toScimRequest(
      {
        node: ctx.req,
        url: ctx.url,
        parsedBody: (ctx.request as { body?: unknown }).body,
        mountUrl: () => `${requestOrigin(ctx.protocol, rawHost(ctx))}${mountPrefix(ctx)}`,
      },
      options,
    );
    if (request === null) return next();
    const response = await handler(request);
    sendScim(ctx, { ...response, headers: settleUnreadBody(ctx.req, response.headers) });
  };
}
