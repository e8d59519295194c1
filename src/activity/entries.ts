/**
 * What the activity log records (docs/activity.md): for a SCIM request, its time, method, path, status,
 * `scimType` and latency; for a refused or failed login, its time, reason, strategy and who tried. No
 * request or response bodies, no query strings (a filter holds a person's name or email), no tokens: a
 * path keeps only the endpoint and a resource id this server issued. Pure functions.
 */

export interface ScimRequestEntry {
  /** ISO 8601 time the request arrived. */
  at: string;
  method: string;
  /** The endpoint and resource id, e.g. `/Users/<uuid>`; anything else a client put in the path is `/…`. */
  path: string;
  status: number;
  scimType: string | null;
  latencyMs: number;
}

export interface LoginEntry {
  /** ISO 8601 time of the login's end. */
  at: string;
  /** `refused`: the guard said ScimUserNotActive; `failed`: the login broke before a decision (an IdP error, say). */
  outcome: 'refused' | 'failed';
  /** The ScimUserNotActive reason, or the SsoLoginError code. */
  reason: string;
  strategy: string | null;
  /** The subject and email claims of the person, when the IdP got that far. */
  subject: string | null;
  email: string | null;
  /** The SCIM user the guard found (deactivated, say), or null. */
  scimUserId: string | null;
}

const ENDPOINTS = new Map(['Users', 'Groups', 'ServiceProviderConfig', 'ResourceTypes', 'Schemas', 'Bulk', 'Me', '.search'].map((e) => [e.toLowerCase(), e]));
/** The ids this server issues (randomUUID) and the discovery ids it serves. */
const RESOURCE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DISCOVERY_ID = new Set([
  'User',
  'Group',
  'urn:ietf:params:scim:schemas:core:2.0:User',
  'urn:ietf:params:scim:schemas:core:2.0:Group',
  'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
]);
/** Longest text kept from a claim; a claim longer than this is cut (the log is for eyes, not for matching). */
export const MAX_CLAIM_CHARS = 320;

/**
 * The path of a SCIM request as the log shows it: the endpoint's canonical name, then `.search`, a UUID or a
 * discovery id; any other segment (an id that is an email, a typo, an attack) becomes `…`, so the log never
 * holds what a client chose to put there.
 */
export function loggedPath(path: string): string {
  const segments = path.split('/').filter((s) => s !== '');
  if (segments.length === 0) return '/';
  const endpoint = ENDPOINTS.get(segments[0]!.toLowerCase());
  if (endpoint === undefined) return '/…';
  const shown = [endpoint];
  for (const segment of segments.slice(1, 3)) {
    shown.push(segment === '.search' || RESOURCE_ID.test(segment) || DISCOVERY_ID.has(segment) ? segment : '…');
  }
  if (segments.length > 3) shown.push('…');
  return `/${shown.join('/')}`;
}

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);

/** What the log is told of a SCIM request. */
export interface ScimRequestInput {
  /** When it arrived (ms since the epoch) and how long the answer took (ms). */
  startedAt: number;
  method: string;
  path: string;
  status: number;
  scimType: string | null;
  latencyMs: number;
}

/** A SCIM request's log entry; the method is one HTTP knows, else `OTHER`. */
export function scimRequestEntry(input: ScimRequestInput): ScimRequestEntry {
  const method = input.method.toUpperCase();
  return {
    at: new Date(input.startedAt).toISOString(),
    method: METHODS.has(method) ? method : 'OTHER',
    path: loggedPath(input.path),
    status: input.status,
    scimType: input.scimType,
    latencyMs: Math.round(input.latencyMs * 10) / 10,
  };
}

/** A claim as the log keeps it: a string cut to MAX_CLAIM_CHARS, or null. */
export const loggedClaim = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value.slice(0, MAX_CLAIM_CHARS) : null);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): v is string => typeof v === 'string';
const strOrNull = (v: unknown): v is string | null => v === null || typeof v === 'string';
const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** A stored SCIM request entry read back, or null when the text is not one (a log written by another version). */
export function parseScimRequestEntry(text: string): ScimRequestEntry | null {
  const v = parseJson(text);
  if (!isObject(v) || !str(v.at) || !str(v.method) || !str(v.path) || !num(v.status) || !strOrNull(v.scimType) || !num(v.latencyMs)) return null;
  return { at: v.at, method: v.method, path: v.path, status: v.status, scimType: v.scimType, latencyMs: v.latencyMs };
}

/** A stored login entry read back, or null when the text is not one. */
export function parseLoginEntry(text: string): LoginEntry | null {
  const v = parseJson(text);
  if (!isObject(v) || !str(v.at) || (v.outcome !== 'refused' && v.outcome !== 'failed') || !str(v.reason)) return null;
  if (!strOrNull(v.strategy) || !strOrNull(v.subject) || !strOrNull(v.email) || !strOrNull(v.scimUserId)) return null;
  return { at: v.at, outcome: v.outcome, reason: v.reason, strategy: v.strategy, subject: v.subject, email: v.email, scimUserId: v.scimUserId };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
