/**
 * What the Express entries of the server-rendered pages (the admin dashboard and the setup portal) share:
 * the framework-neutral page request of an Express request, and sending a page answer.
 */
import type { Request, Response } from 'express';
import type { DashboardRequest, DashboardResponse } from '../dashboard/index.js';
import { readForm } from '../dashboard/form.js';
import { writeBody } from '../scim/response-body.js';

/** The page request of an Express request (the path below where the middleware is mounted). */
export function pageRequestOf(req: Request): DashboardRequest {
  const question = req.url.indexOf('?');
  return {
    method: req.method.toUpperCase(),
    path: req.path,
    query: new URLSearchParams(question === -1 ? '' : req.url.slice(question + 1)),
    mountPath: req.baseUrl,
    headers: req.headers,
    secure: req.secure,
    form: (maxBytes) => readForm(req, (req as { body?: unknown }).body, maxBytes),
  };
}

export function sendPage(res: Response, answer: DashboardResponse): void {
  res.status(answer.status);
  for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
  if (answer.cookies.length) res.append('Set-Cookie', answer.cookies);
  // writeBody sets Content-Length where Node leaves it out (HEAD, HTTP/1.0), as Koa does.
  writeBody(res, answer.body);
}
