/**
 * What every HTTP adapter does the same way: decide whether a URL is under `basePath`, build the
 * neutral ScimRequest from a Node request, and compute the base URL clients see. The body is not read
 * here: the handler reads it through `readBody` once the bearer token is checked, so an anonymous client
 * cannot make the server buffer (and parse) a body. `settleUnreadBody` then decides what happens to a body
 * nobody read.
 */
import type { IncomingMessage } from 'node:http';
import { declaresBody, parsedBodyOf } from '../parsed-body.js';
import { targetPath, withoutTrailingSlashes } from '../url-segment.js';
import { ScimError } from '../errors.js';
import { readBody, tooLarge } from './body.js';
import { SCIM_BODY_READ_MS } from './body-reads.js';
import type { ScimRequest } from './http.js';

/**
 * The path below `basePath` for a URL path, or null when the URL is not a SCIM route. The base matches
 * exactly, case included: a proxy or firewall rule in front (nginx `location`, a WAF path rule) compares
 * paths case-sensitively, and `/SCIM/v2` must not reach SCIM past a rule written for `/scim/v2`. An IdP
 * sends the URL it was given. Endpoint names below it are matched in any case by the router.
 */
export function pathBelow(basePath: string, urlPath: string): string | null {
  const base = withoutTrailingSlashes(basePath);
  if (urlPath === base) return '/';
  if (urlPath.startsWith(base + '/')) return urlPath.slice(base.length);
  return null;
}

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

export interface MountedRequest {
  node: IncomingMessage;
  /** The URL after the mount point of the framework (`/scim/v2/Users?filter=…`). */
  url: string;
  /** A body a parser mounted before scim-sso already produced, if any. */
  parsedBody: unknown;
  /**
   * Absolute URL of the mount point (`https://host/app`), without basePath. A function: it is built only
   * for a SCIM request without `publicBaseUrl`, so every other request of the app passes for a path compare.
   */
  mountUrl: () => string;
}

/** A Host header as RFC 9110 §7.2 allows it: a host name or IP literal, and a port. */
const HOST = /^(?:[A-Za-z0-9._~%!$&'()*+,;=-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * `<protocol>://<host>` of a request, for the URLs an answer carries (`Location`, `meta.location`,
 * `$ref`) when no `publicBaseUrl` is set: `localhost` when the request has no usable Host header (HTTP/1.0
 * may send none, and a malformed one must not shape the URLs). Every adapter builds its mount URL with it.
 */
export function requestOrigin(protocol: string, host: string | undefined): string {
  // A list (`a.test, b.test`, which no valid Host header is) counts by its first member, as Koa reads it.
  const first = host?.split(',', 1)[0]!.trim();
  // Behind a trusted proxy the protocol is X-Forwarded-Proto, as sent: `HTTPS` is https, `javascript` not a scheme.
  const scheme = protocol.toLowerCase() === 'https' ? 'https' : 'http';
  return `${scheme}://${first !== undefined && HOST.test(first) ? first : 'localhost'}`;
}

/**
 * Whether reading `rawQuery` would lose what it says: percent-escapes that spell invalid UTF-8 (`%ff`),
 * which URLSearchParams turns into U+FFFD silently, so that a filter would look for a value the client never
 * sent (a path or a body so encoded is a 400 too). A `%` that starts no escape (`co "50%"`) is kept as is,
 * as URLSearchParams keeps it: nothing is lost.
 */
export function lossyQuery(rawQuery: string): boolean {
  if (!rawQuery.includes('%')) return false;
  try {
    decodeURIComponent(rawQuery.replace(/%(?![0-9A-Fa-f]{2})/g, '%25'));
    return false;
  } catch {
    return true;
  }
}

/**
 * An unread body up to this size is drained after the response so the connection can be kept alive;
 * anything larger (or of unknown length) closes the connection instead of reading it.
 */
export const UNREAD_BODY_DRAIN_BYTES = 16 * 1024;

/** The answer to a body something else read before scim-sso without handing it over (the app's wiring). */
const BODY_READ_ELSEWHERE = new ScimError(
  400,
  'the request body was read before scim-sso and not handed over: give scim-sso the parsed body as req.body, or let it read the stream (README, "Bodies parsed before scim-sso")',
);

/** Where the SCIM routes are mounted and what their requests may carry: the same for every adapter. */
export interface ScimMountOptions {
  basePath: string;
  maxBodyBytes: number;
  publicBaseUrl: string | undefined;
}

/** Builds the neutral request, or null when the URL is not under `mount.basePath`. */
export function toScimRequest(mounted: MountedRequest, { basePath, maxBodyBytes, publicBaseUrl }: ScimMountOptions): ScimRequest | null {
  // An absolute-form target (`GET http://host/scim/v2/…`) counts by its path; its host is not the app's.
  const url = targetPath(mounted.url);
  const questionMark = url.indexOf('?');
  const urlPath = questionMark === -1 ? url : url.slice(0, questionMark);
  const path = pathBelow(basePath, urlPath);
  if (path === null) return null;
  const method = (mounted.node.method ?? 'GET').toUpperCase();
  const rawQuery = questionMark === -1 ? '' : url.slice(questionMark + 1);
  const declared = mounted.node.headers['content-length'];
  // A body parser mounted before scim-sso parsed the body with its own limit: one declared larger than
  // maxBodyBytes is still a 413, answered once the token is checked, as for a body read here.
  const parsedBody = parsedBodyOf(mounted.node, mounted.parsedBody);
  const overLimit = parsedBody !== undefined && declared !== undefined && Number(declared) > maxBodyBytes;
  const body: unknown = BODY_METHODS.has(method) && !overLimit ? parsedBody : undefined;
  const unread = body === undefined && BODY_METHODS.has(method) && !mounted.node.readableEnded;
  // Read already, and not handed over as `req.body` (a framework's parser, e.g. Fastify's `request.body`):
  // said as what it is, not as a missing body (docs: README "Bodies parsed before scim-sso").
  const consumed = body === undefined && BODY_METHODS.has(method) && mounted.node.readableEnded && declaresBody(mounted.node.headers);
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(mounted.node.headers)) {
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return {
    method,
    path,
    query: new URLSearchParams(rawQuery),
    ...(lossyQuery(rawQuery) ? { queryProblem: 'the query string is not valid percent-encoded UTF-8' } : {}),
    headers,
    body,
    ...(unread ? { readBody: () => readBody(mounted.node, maxBodyBytes, declared, SCIM_BODY_READ_MS) } : {}),
    ...(consumed ? { readBody: () => Promise.resolve(BODY_READ_ELSEWHERE) } : {}),
    ...(overLimit && BODY_METHODS.has(method) ? { readBody: () => Promise.resolve(tooLarge(maxBodyBytes)) } : {}),
    baseUrl: publicBaseUrl ? withoutTrailingSlashes(publicBaseUrl) : mounted.mountUrl() + withoutTrailingSlashes(basePath),
    // Every adapter writes the answer with writeBody, which calls its `sent`.
    reportsSent: true,
  };
}

/**
 * Called by an adapter after the response is chosen: when the body was never read (an unauthenticated or
 * refused request), a small declared body is drained so the connection stays usable, and a large or
 * chunked one is not read at all: the response asks the client to close the connection. So does a body
 * abandoned part way (413).
 */
export function settleUnreadBody(node: IncomingMessage, headers: Record<string, string>): Record<string, string> {
  if (node.readableEnded) return headers;
  // Read in part, then left (a 413 past maxBodyBytes): what is still coming is not read, not even drained.
  if (node.readableFlowing !== null) return { ...headers, Connection: 'close' };
  // Neither Content-Length nor Transfer-Encoding: the request has no body at all (RFC 9112 §6.3), as for
  // every GET and DELETE; the connection stays open.
  if (node.headers['content-length'] === undefined && node.headers['transfer-encoding'] === undefined) return headers;
  const declared = node.headers['content-length'];
  const length = declared === undefined ? Number.NaN : Number(declared);
  if (Number.isSafeInteger(length) && length <= UNREAD_BODY_DRAIN_BYTES) {
    node.resume();
    return headers;
  }
  return { ...headers, Connection: 'close' };
}
