/**
 * Where the portal's Activity page and SCIM status line read from: the connection's activity log
 * (`sso.activity(customerId, { limit })`: recent SCIM requests and refused logins, kept bounded in the store).
 * Read through this one function, defensively (own, typed fields only), so the pages depend on a small
 * view and not on the log's storage. When the instance has no activity log, the refused logins come from
 * the recorded SSO users (their last outcome) and the SCIM requests are reported as unavailable.
 */
import type { ScimSsoCore } from '../sso.js';
import type { Store } from '../store/store.js';

export interface ScimRequestView {
  at: string;
  method: string;
  path: string;
  status: number;
  scimType: string | null;
  latencyMs: number | null;
}

export interface RefusedLoginView {
  at: string;
  /** Who tried (the subject or email, as the log keeps it). */
  who: string;
  reason: string;
  /** The log's own fix hint, when it has one. */
  hint: string | null;
}

export interface ActivityView {
  /** Null when this instance keeps no SCIM request log. */
  requests: ScimRequestView[] | null;
  refusedLogins: RefusedLoginView[];
}

type ActivityApi = (customerId: string, options?: { limit?: number }) => Promise<unknown>;

const own = (value: unknown, key: string): unknown =>
  value !== null && typeof value === 'object' && Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined;
const str = (value: unknown): string | null => (typeof value === 'string' ? value.slice(0, 500) : null);
const num = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);
const iso = (value: unknown): string | null => {
  if (typeof value === 'number' && Number.isFinite(value)) return new Date(value).toISOString();
  const text = str(value);
  return text && !Number.isNaN(Date.parse(text)) ? new Date(text).toISOString() : null;
};

function requestView(entry: unknown): ScimRequestView | null {
  const at = iso(own(entry, 'at') ?? own(entry, 'time'));
  const method = str(own(entry, 'method'));
  const path = str(own(entry, 'path'));
  const status = num(own(entry, 'status'));
  if (!at || !method || !path || status === null) return null;
  return { at, method, path, status, scimType: str(own(entry, 'scimType')), latencyMs: num(own(entry, 'latencyMs') ?? own(entry, 'latency')) };
}

function refusedView(entry: unknown): RefusedLoginView | null {
  const at = iso(own(entry, 'at') ?? own(entry, 'time'));
  const reason = str(own(entry, 'reason'));
  if (!at || !reason) return null;
  const who = str(own(entry, 'email')) ?? str(own(entry, 'subject')) ?? '';
  return { at, who, reason, hint: str(own(entry, 'hint') ?? own(entry, 'fixHint')) };
}

const list = (value: unknown): unknown[] => (Array.isArray(value) ? value.slice(0, 500) : []);

/** The customer's recent activity, newest first, at most `limit` of each kind. */
export async function readActivity(sso: ScimSsoCore, store: Store, customerId: string, limit: number): Promise<ActivityView> {
  const activity = (sso as unknown as { activity?: unknown }).activity;
  if (typeof activity === 'function') {
    const answer = await (activity as ActivityApi).call(sso, customerId, { limit });
    const requests = list(own(answer, 'requests'))
      .map(requestView)
      .filter((r): r is ScimRequestView => r !== null);
    const refusedLogins = list(own(answer, 'refusedLogins'))
      .map(refusedView)
      .filter((r): r is RefusedLoginView => r !== null);
    return { requests: requests.slice(0, limit), refusedLogins: refusedLogins.slice(0, limit) };
  }
  const page = await store.listSsoUserPage(customerId, 0, Math.min(limit * 4, 200));
  const refusedLogins = page.users
    .filter((u) => u.lastOutcome === 'refused')
    .slice(0, limit)
    .map((u) => ({ at: u.lastSeenAt, who: u.email ?? u.subject, reason: u.lastReason ?? 'unknown', hint: null }));
  return { requests: null, refusedLogins };
}

/** "2 min ago" for the status line. Pure. */
export function ago(iso: string, now = Date.now()): string {
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86_400)} days ago`;
}
