/**
 * What the login runtime keeps of a customer's OIDC discovery document. openid-client keeps the parsed
 * document for as long as its Configuration is cached, and the document is the customer's IdP's to write:
 * 256 KB of JSON (the most an IdP answer is read, src/guard/idp-fetch.ts) padded with empty objects parses to
 * about 5.3 MB of heap (audit, 2026-12-06), so 1,000 cached customers could hold gigabytes of the process
 * every customer shares. Metadata (RFC 8414, OpenID Connect Discovery 1.0) is strings, numbers, booleans,
 * lists of strings and `mtls_endpoint_aliases` (an object of strings): only those are kept, at most
 * {@link MAX_METADATA_NAMES} of them, within {@link MAX_DISCOVERY_METADATA_BYTES}; a document whose metadata is
 * larger is refused. Empty lists are kept: oauth4webapi reads `[]` and an absent list differently.
 */
import type * as oidc from 'openid-client';
import { SsoLoginError } from '../errors.js';

/** The most metadata kept of a discovery document, as JSON text (real ones: 1.5 KB for Google to about 8 KB). */
export const MAX_DISCOVERY_METADATA_BYTES = 32 * 1024;
/** The most metadata names kept (real documents have 25 to 70; those past it are dropped). */
export const MAX_METADATA_NAMES = 256;
/** The most strings a list of metadata keeps (the longest real `*_supported` lists hold a few dozen). */
export const MAX_METADATA_LIST_ITEMS = 100;
/** The most entries an object of metadata keeps (`mtls_endpoint_aliases` names a handful of endpoints). */
const MAX_METADATA_OBJECT_KEYS = 50;

const isString = (value: unknown): value is string => typeof value === 'string';

/** A metadata value as kept, or undefined when it is no metadata shape. */
function keptValue(value: unknown): unknown {
  if (typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) return value;
  if (Array.isArray(value)) return value.every(isString) ? value.slice(0, MAX_METADATA_LIST_ITEMS) : undefined;
  if (typeof value !== 'object' || value === null) return undefined;
  const names = Object.keys(value);
  // Empty objects are no metadata, and 64 KB of them (`"k1":{},…`) weighed nine times their text in heap.
  if (names.length === 0 || names.length > MAX_METADATA_OBJECT_KEYS) return undefined;
  const out: Record<string, string> = {};
  for (const name of names) {
    const item = (value as Record<string, unknown>)[name];
    if (!isString(item)) return undefined;
    Object.defineProperty(out, name, { value: item, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/**
 * The metadata shapes of a parsed discovery document (own properties only, `__proto__` as a plain name);
 * other values are dropped. A document that is no object is answered as it is, for openid-client to refuse.
 */
export function metadataOf(document: unknown): unknown {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) return document;
  const out: Record<string, unknown> = {};
  let kept = 0;
  for (const name of Object.keys(document)) {
    const value = keptValue((document as Record<string, unknown>)[name]);
    if (value === undefined) continue;
    Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
    if (++kept === MAX_METADATA_NAMES) break;
  }
  return out;
}

/** Whether a request is for a discovery document (openid-client appends this path to the issuer). */
const isDiscoveryRequest = (url: string): boolean => new URL(url).pathname.endsWith('/.well-known/openid-configuration');

/**
 * Wraps an openid-client `customFetch` so that the discovery document reaches openid-client as its metadata
 * only ({@link metadataOf}), refused with an `idp_error` past {@link MAX_DISCOVERY_METADATA_BYTES}. Other
 * requests (JWKS, token, userinfo) pass unchanged.
 */
export function discoveryMetadataFetch(fetch: oidc.CustomFetch, customerId: string): oidc.CustomFetch {
  return async (url, options) => {
    const answer = await fetch(url, options);
    if (!isDiscoveryRequest(url) || !answer.ok) return answer;
    const text = await answer.text();
    let body = text;
    try {
      body = JSON.stringify(metadataOf(JSON.parse(text)));
    } catch {
      // Not JSON: openid-client says so.
    }
    if (Buffer.byteLength(body) > MAX_DISCOVERY_METADATA_BYTES) {
      throw new SsoLoginError(
        'idp_error',
        400,
        `the identity provider's discovery document holds ${Math.ceil(Buffer.byteLength(body) / 1024)} KB of metadata, more than the ${MAX_DISCOVERY_METADATA_BYTES / 1024} KB kept`,
        customerId,
      );
    }
    // The body is new: of the IdP's headers only its media type still holds (openid-client checks it).
    const type = answer.headers.get('content-type');
    return new Response(body, { status: answer.status, statusText: answer.statusText, headers: type ? { 'content-type': type } : {} });
  };
}
