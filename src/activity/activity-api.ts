/**
 * `sso.activity(customerId)`: the customer's recent SCIM requests and refused logins, newest first, for
 * the setup portal, the admin dashboard and the app's own support pages (docs/activity.md). Reads flush
 * this instance's buffer first, so what this instance saw is always there; other instances' entries arrive
 * within their flush interval.
 */
import { checkCustomerId } from '../connections.js';
import { ScimSsoConfigError } from '../errors.js';
import { refusalHint } from '../match/refusal-hints.js';
import type { Store } from '../store/store.js';
import { parseLoginEntry, parseScimRequestEntry, type LoginEntry, type ScimRequestEntry } from './entries.js';
import type { ActivityLogOptions, ActivityRecorder } from './recorder.js';

export type { LoginEntry, ScimRequestEntry };

/** A refused or failed login with what the IT admin can do about it. */
export interface RefusedLogin extends LoginEntry {
  hint: string;
}

export interface CustomerActivity {
  /** The customer's recent SCIM requests, newest first. */
  requests: ScimRequestEntry[];
  /** The most recent of them ("Last request from your IdP: 2 min ago, POST /Users → 201"), or null. */
  lastRequest: ScimRequestEntry | null;
  /**
   * Recent logins that were refused (ScimUserNotActive) or failed, newest first, each with a fix hint; within
   * `limit`, every refusal kept, then the newest failures in the room left (failures are kept apart, so a
   * flood of them never pushes a refusal out).
   */
  refusedLogins: RefusedLogin[];
}

export interface ActivityApi {
  /** The customer's activity log; `limit` (default 50) caps each list. */
  activity(customerId: string, options?: { limit?: number }): Promise<CustomerActivity>;
}

export const DEFAULT_ACTIVITY_LIMIT = 50;

export function activityApi(store: Store, recorder: ActivityRecorder | null, options: ActivityLogOptions): ActivityApi {
  return {
    async activity(customerId, read = {}) {
      checkCustomerId(customerId);
      const limit = read?.limit ?? DEFAULT_ACTIVITY_LIMIT;
      if (!Number.isSafeInteger(limit) || limit < 1) throw new ScimSsoConfigError('invalid_argument', 'activity: limit must be a positive integer');
      await recorder?.flush();
      const loginLimit = Math.min(limit, options.maxLogins);
      const [requests, refusals, failures] = await Promise.all([
        store.readActivity(customerId, 'scim', Math.min(limit, options.maxRequests)),
        store.readActivity(customerId, 'logins', loginLimit),
        store.readActivity(customerId, 'failures', loginLimit),
      ]);
      // Several instances append in flush order: sort by time (a list is at most a few hundred entries).
      const parsedRequests = newestFirst(requests.map(parseScimRequestEntry));
      // Refusals first, failures in the room they leave: junk posted to a public callback never hides one.
      const refused = newestFirst(refusals.map(parseLoginEntry));
      const failed = newestFirst(failures.map(parseLoginEntry)).slice(0, loginLimit - refused.length);
      const refusedLogins = newestFirst([...refused, ...failed]).map((entry) => ({ ...entry, hint: refusalHint(entry.reason, entry.strategy) }));
      return { requests: parsedRequests, lastRequest: parsedRequests[0] ?? null, refusedLogins };
    },
  };
}

function newestFirst<T extends { at: string }>(entries: (T | null)[]): T[] {
  return entries.filter((e): e is T => e !== null).sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
}
