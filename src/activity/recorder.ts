/**
 * Writes the activity log off the request path (docs/activity.md): a SCIM request or a refused login adds
 * an entry to a buffer in this process, and the buffer goes to the store in one batch at most every
 * `flushIntervalMs` (one MULTI per customer, sent together). A request never waits for the log and costs no
 * round trip; the price is that an entry shows up to `flushIntervalMs` late, and that the entries of a
 * process that dies before its next flush are lost. The buffer is bounded: per customer and list only the
 * newest entries the store would keep, and MAX_PENDING_ENTRIES in all (past that, new entries are counted
 * as dropped until the next flush). A batch the store cannot take because it is unreachable is dropped too.
 */
import type { ActivityAppend, ActivityLogName } from '../store/activity-log.js';
import type { Store } from '../store/store.js';
import { isStoreUnavailable } from '../store/unavailable.js';
import type { LoginEntry, ScimRequestEntry } from './entries.js';

export interface ActivityLogOptions {
  /** SCIM requests kept per customer. */
  maxRequests: number;
  /** Refused or failed logins kept per customer. */
  maxLogins: number;
  /** Longest wait before buffered entries are written. */
  flushIntervalMs: number;
  /** A customer's log is dropped this long after its last entry. */
  retentionMs: number;
}

export const DEFAULT_ACTIVITY_LOG: ActivityLogOptions = { maxRequests: 200, maxLogins: 100, flushIntervalMs: 1000, retentionMs: 30 * 24 * 3600_000 };

/** Entries buffered in all before new ones are dropped (a store that cannot keep up must not grow the heap). */
export const MAX_PENDING_ENTRIES = 20_000;

export class ActivityRecorder {
  private pending = new Map<string, ActivityAppend>();
  private pendingCount = 0;
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();
  /** Entries dropped because the buffer was full or the store unreachable, since this process started. */
  dropped = 0;

  constructor(
    private readonly store: Store,
    private readonly options: ActivityLogOptions,
    private readonly onError: (error: unknown) => void,
  ) {}

  recordScimRequest(customerId: string, entry: ScimRequestEntry): void {
    this.add(customerId, 'scim', entry, this.options.maxRequests);
  }

  recordLogin(customerId: string, entry: LoginEntry): void {
    this.add(customerId, 'logins', entry, this.options.maxLogins);
  }

  /** Writes what is buffered now, after any write under way; never rejects (a failure goes to onError). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const appends = [...this.pending.values()];
    this.pending = new Map();
    this.pendingCount = 0;
    this.writing = this.writing.then(async () => {
      if (appends.length === 0) return;
      try {
        await this.store.appendActivity(appends, this.options.retentionMs);
      } catch (error) {
        // A store outage loses this batch (the log is diagnostics; requests are answered 503 meanwhile).
        if (isStoreUnavailable(error)) this.dropped += appends.reduce((n, a) => n + a.entries.length, 0);
        else this.onError(error);
      }
    });
    return this.writing;
  }

  private add(customerId: string, log: ActivityLogName, entry: ScimRequestEntry | LoginEntry, maxEntries: number): void {
    if (this.pendingCount >= MAX_PENDING_ENTRIES) {
      this.dropped++;
      return;
    }
    const key = `${log}\0${customerId}`;
    let append = this.pending.get(key);
    if (!append) this.pending.set(key, (append = { customerId, log, entries: [], maxEntries }));
    append.entries.push(JSON.stringify(entry));
    this.pendingCount++;
    // The store keeps only the newest maxEntries: older buffered ones need not be sent.
    if (append.entries.length > 2 * maxEntries) {
      this.pendingCount -= append.entries.length - maxEntries;
      append.entries = append.entries.slice(-maxEntries);
    }
    if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.options.flushIntervalMs);
      this.timer.unref();
    }
  }
}
