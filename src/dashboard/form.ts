/**
 * Reads the dashboard's urlencoded forms from the Node request, for every framework alike: a body a parser
 * mounted before the dashboard already produced is used as it is; otherwise the body is read here, up to
 * 16 KB (413 above; the Roles form up to ROLES_FORM_LIMIT_BYTES). A body of another type counts as empty
 * (the CSRF check then refuses the POST).
 */
import type { IncomingMessage } from 'node:http';
import { parsedBodyOf } from '../parsed-body.js';

export const FORM_LIMIT_BYTES = 16 * 1024;
/**
 * The dashboard's Roles form sends the whole mapping back: up to 200 rules of a 256-character group and 20
 * roles of 100 characters, percent-encoded about 1.7 MB at worst (about 450 KB in plain ASCII). Only an
 * authorized admin reaches it (the dashboard authorizes before it reads a form).
 */
export const ROLES_FORM_LIMIT_BYTES = 2 * 1024 * 1024;
/**
 * The most fields a form may carry. The largest form is the dashboard's Roles page: 3 fields per rule, at
 * most 200 rules (MAX_ROLE_RULES), and a few more; the others have fewer than 10.
 */
export const FORM_MAX_FIELDS = 1_000;

/** An error with the HTTP status the dashboard answers it with. */
class FormError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The form as an object without a prototype (a field named `__proto__` is just a field): a repeated field
 * is an array (and so never a valid CSRF token or choice). One pass over the fields, at most
 * FORM_MAX_FIELDS of them: 16 KB holds thousands of empty ones, and this runs before the CSRF check.
 */
function fromParams(params: URLSearchParams): Record<string, unknown> {
  const form = Object.create(null) as Record<string, unknown>;
  let fields = 0;
  for (const [key, value] of params) {
    if (++fields > FORM_MAX_FIELDS) throw new FormError(400, 'too many form fields');
    const before = form[key];
    if (before === undefined) form[key] = value;
    else if (Array.isArray(before)) before.push(value);
    else form[key] = [before, value];
  }
  return form;
}

/**
 * A form a body parser mounted before the dashboard produced (`express.urlencoded`, koa-bodyparser), held to
 * the same rules as one read here: own fields only, at most FORM_MAX_FIELDS, in an object without a prototype.
 */
function fromParsed(parsed: object): Record<string, unknown> {
  const keys = Object.keys(parsed);
  if (keys.length > FORM_MAX_FIELDS) throw new FormError(400, 'too many form fields');
  const form = Object.create(null) as Record<string, unknown>;
  for (const key of keys) form[key] = (parsed as Record<string, unknown>)[key];
  return form;
}

export async function readForm(node: IncomingMessage, given: unknown, maxBytes = FORM_LIMIT_BYTES): Promise<Record<string, unknown>> {
  const parsedBody = parsedBodyOf(node, given);
  if (parsedBody !== null && typeof parsedBody === 'object' && !Buffer.isBuffer(parsedBody)) return fromParsed(parsedBody);
  const type = (node.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded' || node.readableEnded) return {};
  const declared = Number(node.headers['content-length'] ?? Number.NaN);
  if (declared > maxBytes) throw new FormError(413, 'form too large');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of node as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new FormError(413, 'form too large');
    chunks.push(chunk);
  }
  return fromParams(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
}
