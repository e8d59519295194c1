/**
 * What every HTTP adapter does the same way: decide whether a URL is under `basePath`, build the
 * neutral ScimRequest from a Node request (reading the body only when the method carries one), and
 * compute the base URL clients see.
 */
import type { IncomingMessage } from 'node:http';
import { ScimError } from '../errors.js';
import { readBody } from './body.js';
import type { ScimRequest } from './http.js';

/** The path below `basePath` for a URL path, or null when the URL is not a SCIM route. */
export function pathBelow(basePath: string, urlPath: string): string | null {
  const base = basePath.replace(/\/+$/, '');
  const lowerPath = urlPath.toLowerCase();
  const lowerBase = base.toLowerCase();
  if (lowerPath === lowerBase) return '/';
  if (lowerPath.startsWith(lowerBase + '/')) return urlPath.slice(base.length);
  return null;
}

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

export interface MountedRequest {
  node: IncomingMessage;
  /** The URL after the mount point of the framework (`/scim/v2/Users?filter=…`). */
  url: string;
  /** A body a parser mounted before scim-sso already produced, if any. */
  parsedBody: unknown;
  /** Absolute URL of the mount point (`https://host/app`), without basePath. */
  mountUrl: string;
}

/** Builds the neutral request, or null when the URL is not under basePath. A body over the limit gives a ScimError. */
export async function toScimRequest(
  mounted: MountedRequest,
  basePath: string,
  maxBodyBytes: number,
  publicBaseUrl: string | undefined,
): Promise<ScimRequest | ScimError | null> {
  const questionMark = mounted.url.indexOf('?');
  const urlPath = questionMark === -1 ? mounted.url : mounted.url.slice(0, questionMark);
  const path = pathBelow(basePath, urlPath);
  if (path === null) return null;
  const method = (mounted.node.method ?? 'GET').toUpperCase();
  let body: unknown = undefined;
  if (BODY_METHODS.has(method)) {
    if (mounted.parsedBody !== undefined) body = mounted.parsedBody;
    else if (!mounted.node.readableEnded) {
      const raw = await readBody(mounted.node, maxBodyBytes, mounted.node.headers['content-length']);
      if (raw instanceof ScimError) return raw;
      body = raw;
    }
  }
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(mounted.node.headers)) {
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return {
    method,
    path,
    query: new URLSearchParams(questionMark === -1 ? '' : mounted.url.slice(questionMark + 1)),
    headers,
    body,
    baseUrl: publicBaseUrl ? publicBaseUrl.replace(/\/+$/, '') : mounted.mountUrl + basePath.replace(/\/+$/, ''),
  };
}
