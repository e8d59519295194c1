/**
 * What a SCIM request asks, read from it: its JSON body (read from the wire if the adapter left it unread),
 * its projection, and a SearchRequest's query (RFC 7644 §3.4.3). Each refuses what it cannot read with the
 * SCIM error that says why, before any work.
 */
import { ScimError, scimErrors, unwrap } from '../errors.js';
import { parseJsonBody } from './body.js';
import type { ScimRequest } from './http.js';
import { MAX_PROJECTION_PATHS } from './limits.js';
import { LIST_PARAMETERS, listParameterNamed, paramReader, repeatedParameter } from './list-query.js';
import { parseProjection, type Projection } from './projection.js';
import type { ResourceContext } from './resources.js';

/** Throws 415 naming the first coding of `header` (a list) other than `undone`: a body this server cannot read. */
function refuseCoding(request: ScimRequest, header: 'Content-Encoding' | 'Transfer-Encoding', undone: string, rfc: string): void {
  const codings = (request.headers[header.toLowerCase()] ?? '').split(',').map((coding) => coding.trim().toLowerCase());
  const coded = codings.find((coding) => coding !== '' && coding !== undone);
  if (coded !== undefined) {
    throw new ScimError(415, `the body is sent with ${header}: ${coded.slice(0, 40)}, which this server does not decode; send it without (${rfc})`);
  }
}

/** The parsed body, read from the wire now if the adapter left it unread (after authentication). */
export async function requestJson(request: ScimRequest): Promise<unknown> {
  return (await requestBody(request)).value;
}

/**
 * The parsed body ({@link requestJson}) and its bytes: as read, or for a body a parser mounted before scim-sso
 * produced, as its `Content-Length` declared them (0 when it declared none).
 */
export async function requestBody(request: ScimRequest): Promise<{ value: unknown; bytes: number }> {
  let raw = request.body;
  if (raw === undefined && request.readBody) {
    // A compressed body would otherwise read as invalid UTF-8 (a 400 that hides the cause). A body parser
    // mounted before scim-sso may inflate it; then `request.body` is already set and this is not reached.
    // Node undoes the transfer coding `chunked` only (`gzip, chunked` is refused the same way).
    refuseCoding(request, 'Content-Encoding', 'identity', 'RFC 9110 §8.4.1');
    refuseCoding(request, 'Transfer-Encoding', 'chunked', 'RFC 9112 §6.1');
    raw = await request.readBody();
    if (raw instanceof ScimError) throw raw;
  }
  const parsed = await parseJsonBody(raw, request.headers['content-type']);
  if (parsed instanceof ScimError) throw parsed;
  const bytes = Buffer.isBuffer(raw) ? raw.length : typeof raw === 'string' ? Buffer.byteLength(raw) : Number(request.headers['content-length'] ?? 0);
  return { value: parsed, bytes: Number.isFinite(bytes) ? bytes : 0 };
}

/** The `attributes`/`excludedAttributes` of a request: parsed before any write, so a bad one changes nothing. */
export function projectionOf(ctx: ResourceContext, request: ScimRequest): Projection {
  const repeated = repeatedParameter(request.query.keys());
  if (repeated) throw repeated;
  const param = paramReader(request.query);
  return unwrap(parseProjection(ctx.spec.type, param('attributes'), param('excludedAttributes')));
}

/** A SearchRequest member as a query parameter: strings, numbers, booleans, and lists of strings (RFC 7644 §3.4.3). */
function searchParameter(key: string, value: unknown): string | null {
  // A whole number too large for plain digits (1e21) is written out, so startIndex and count clamp it as in a query.
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value).toString();
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) {
    // Refused before any joining or parsing: 3,000 names would cost seconds of projection work.
    if (value.length > MAX_PROJECTION_PATHS) {
      throw scimErrors.badRequest('invalidValue', `SearchRequest "${key}" lists ${value.length} values; at most ${MAX_PROJECTION_PATHS} are accepted`);
    }
    if (value.every((v) => typeof v === 'string')) return value.join(',');
  }
  return null;
}

/**
 * A SearchRequest body as the query parameters it stands for, from the body only (RFC 7644 §3.4.3). A
 * list parameter in the query string of a `.search` is refused, not ignored: a client that sent its
 * filter there would otherwise get every resource back as the answer to a lookup.
 */
export async function searchQuery(request: ScimRequest): Promise<URLSearchParams> {
  for (const key of request.query.keys()) {
    if (listParameterNamed(key) !== null) {
      throw scimErrors.badRequest(
        'invalidValue',
        `POST .search takes "${key.slice(0, 60)}" in its SearchRequest body (RFC 7644 §3.4.3), not in the query string`,
      );
    }
  }
  const input = await requestJson(request);
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw scimErrors.badRequest('invalidSyntax', 'a SearchRequest must be a JSON object');
  }
  const repeated = repeatedParameter(Object.keys(input));
  if (repeated) throw repeated;
  const query = new URLSearchParams();
  // The members of a SearchRequest are the list parameters; others are type-checked, then ignored.
  for (const [key, value] of Object.entries(input)) {
    if (key === 'schemas' || value === null || value === undefined) continue;
    const text = searchParameter(key, value);
    if (text === null) throw scimErrors.badRequest('invalidValue', `SearchRequest "${key}" must be a string, number or list of strings`);
    if (LIST_PARAMETERS.has(key.toLowerCase())) query.set(key, text);
  }
  return query;
}
