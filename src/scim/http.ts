/** The framework-neutral request and response the SCIM handler works with; adapters translate to these. */
import { ScimError } from '../errors.js';
import type { ScimBody } from './response-body.js';

export interface ScimRequest {
  method: string;
  /** The path below `basePath`, e.g. `/Users/2819c223`. */
  path: string;
  query: URLSearchParams;
  /** Why the query string cannot be read as sent (lossyQuery in src/scim/mount.ts): the request is a 400. */
  queryProblem?: string;
  /** Header names lower-cased. */
  headers: Record<string, string | undefined>;
  /** The raw body, or a value a body parser mounted before scim-sso already produced. */
  body: Buffer | string | unknown;
  /**
   * Reads the body from the wire when it has not been read yet (`body` is then undefined). The handler
   * calls it only after the request is authenticated, so an anonymous client never gets a body buffered.
   */
  readBody?: () => Promise<Buffer | ScimError>;
  /** Absolute URL of `basePath` as the client sees it, used for `Location` and `meta.location`. */
  baseUrl: string;
  /**
   * Whether whoever writes the answer calls its `sent` (ScimResponse) once written: the adapters do
   * (toScimRequest), so a large answer holds its heavy-request slot until then (src/scim/heavy-work.ts). An
   * app calling `handleScim` in process holds the answer itself: its slot goes when the answer is returned.
   */
  reportsSent?: boolean;
}

export interface ScimResponse {
  status: number;
  headers: Record<string, string>;
  /** One string, or a large body's encoded parts (src/scim/response-body.ts). */
  body?: ScimBody;
  /**
   * Set on a large answer that holds one of its connection's heavy-request slots (src/scim/heavy-work.ts),
   * when the request `reportsSent`: call it once the body has been written, or the client has gone. Should
   * the call never come, the slot is given back when the body is collected.
   */
  sent?: () => void;
}

export const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8';

/** A JSON response with the SCIM media type (RFC 7644 §3.1 and §8.1). */
export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): ScimResponse {
  return { status, headers: { 'Content-Type': SCIM_CONTENT_TYPE, ...headers }, body: JSON.stringify(body) };
}

/** A response carrying a pre-serialised JSON body. */
export function rawJsonResponse(status: number, body: ScimBody, headers: Record<string, string> = {}): ScimResponse {
  return { status, headers: { 'Content-Type': SCIM_CONTENT_TYPE, ...headers }, body };
}

export function errorResponse(error: ScimError): ScimResponse {
  return jsonResponse(error.status, error.toBody(), error.headers);
}

export const noContent = (headers: Record<string, string> = {}): ScimResponse => ({ status: 204, headers });
