/**
 * What the Koa entries of the server-rendered pages (the admin dashboard and the setup portal) share: the
 * framework-neutral page request of a Koa context, and sending a page answer.
 */
import type { Context } from 'koa';
import type { DashboardRequest, DashboardResponse } from '../dashboard/index.js';
import { readForm } from '../dashboard/form.js';
import { targetPath } from '../url-segment.js';

/**
 * The mount prefix koa-mount stripped from `ctx.path`, if any: a path only. An absolute-form request target
 * names a host of the client's choosing, which would otherwise lead every link, form and cookie path of the
 * page (Express's `baseUrl` is a path already).
 */
function mountPath(ctx: Context): string {
  const original = targetPath((ctx.originalUrl ?? ctx.url).split('?')[0]!);
  return original.endsWith(ctx.path) ? original.slice(0, original.length - ctx.path.length) : '';
}

/** The page request of a Koa context. */
export function pageRequestOf(ctx: Context): DashboardRequest {
  return {
    method: ctx.method.toUpperCase(),
    path: ctx.path,
    query: new URLSearchParams(ctx.querystring),
    mountPath: mountPath(ctx),
    headers: ctx.req.headers,
    secure: ctx.secure,
    form: (maxBytes) => readForm(ctx.req, (ctx.request as { body?: unknown }).body, maxBytes),
  };
}

export function sendPage(ctx: Context, answer: DashboardResponse): void {
  ctx.status = answer.status;
  for (const [name, value] of Object.entries(answer.headers)) ctx.set(name, value);
  if (answer.cookies.length) ctx.append('Set-Cookie', answer.cookies);
  // Headers first: Koa keeps an explicit Content-Type when the body is set (and a string body keeps the 303).
  ctx.body = answer.body;
  // An empty body (a redirect) goes without the text/plain Koa would type it with, as on Express; not with
  // ctx.body = null, which would turn the 303 into a 204.
  if (answer.body === '' && !Object.keys(answer.headers).some((name) => name.toLowerCase() === 'content-type')) ctx.remove('Content-Type');
}
