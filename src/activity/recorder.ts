/**
 * Writes the activity log off the request path (docs/activity.md): a SCIM request or a refused login adds
 * an entry to a buffer in this process, and the buffer goes to the store in one batch at most every
 * `flushIntervalMs` (one MULTI per customer, sent together). A request never waits for the log and costs no
 * round trip; the price is that an entry shows up to `flushIntervalMs` late, and that the entries of a
 * process that dies before its next flush are lost. The buffer is bounded: per customer and list a ring of
 * the newest entries the store would keep, and MAX_PENDING_ENTRIES in all (past that, new entries are
 * counted as dropped until the next flush). A batch the store cannot take because it is unreachable is
 * dropped too. Entries are serialised when written, not when added: a busy connection sends thousands of
 * requests a second of which the store keeps the last few hundred, and only those are ever formatted.
 */
import type { ActivityAppend, ActivityLogName } from '../store/activity-log.js';
import type { Store } from '../store/store.js';
import { isStoreUnavailable } from '../store/unavailable.js';
import { yieldToEventLoop } from '../event-loop.js';
import { loggedPath, scimRequestEntry, type LoginEntry, type ScimRequestInput } from './entries.js';

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

/** Entries serialised at a flush between two yields to the event loop (a few ms of work). */
const SERIALIZE_SLICE = 1_000;

/** One customer's buffered entries of one log: a ring of the newest `maxEntries`, serialised when written. */
class PendingEntries<T> {
  private readonly ring: T[] = [];
  /** Where the next entry goes once the ring is full (its oldest entry). */
  private oldest = 0;

  constructor(
    private readonly customerId: string,
    private readonly log: ActivityLogName,
    private readonly maxEntries: number,
    private readonly serialize: (entry: T) => string,
  ) {}

  get size(): number {
    return this.ring.length;
  }

  /** Adds an entry; true if the buffer grew, false if it took the place of the oldest. */
  push(entry: T): boolean {
    if (this.ring.length < this.maxEntries) {
      this.ring.push(entry);
      return true;
    }
    this.ring[this.oldest] = entry;
    this.oldest = (this.oldest + 1) % this.maxEntries;
    return false;
  }

  /** The entries, oldest first, as the store takes them. */
  toAppend(): ActivityAppend {
    const ordered = [...this.ring.slice(this.oldest), ...this.ring.slice(0, this.oldest)];
    return { customerId: this.customerId, log: this.log, entries: ordered.map(this.serialize), maxEntries: this.maxEntries };
  }
}

const serializeScimRequest = (input: ScimRequestInput) => JSON.stringify(scimRequestEntry(input));
const serializeLogin = (entry: LoginEntry) => JSON.stringify(entry);

export class ActivityRecorder {
  /** Buffered entries by customer, one map per log. */
  private requests = new Map<string, PendingEntries<ScimRequestInput>>();
  private logins = new Map<string, PendingEntries<LoginEntry>>();
  private failures = new Map<string, PendingEntries<LoginEntry>>();
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

  /** A SCIM request as answered; only its logged path is kept (src/activity/entries.ts loggedPath). */
  recordScimRequest(customerId: string, request: ScimRequestInput): void {
    const { startedAt, method, path, status, scimType, latencyMs } = request;
    const kept: ScimRequestInput = { startedAt, method, path: loggedPath(path), status, scimType, latencyMs };
    this.add(this.requests, customerId, 'scim', kept, this.options.maxRequests, serializeScimRequest);
  }

  /** A refused login goes to the `logins` list, a failed one to `failures`: failures cannot push refusals out. */
  recordLogin(customerId: string, entry: LoginEntry): void {
    if (entry.outcome === 'failed') this.add(this.failures, customerId, 'failures', entry, this.options.maxLogins, serializeLogin);
    else this.add(this.logins, customerId, 'logins', entry, this.options.maxLogins, serializeLogin);
  }

  /** Writes what is buffered now, after any write under way; never rejects (a failure goes to onError). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const buffered = [...this.requests.values(), ...this.logins.values(), ...this.failures.values()];
    this.requests = new Map();
    this.logins = new Map();
    this.failures = new Map();
    this.pendingCount = 0;
    this.writing = this.writing.then(async () => {
      if (buffered.length === 0) return;
      // Up to MAX_PENDING_ENTRIES to serialise: in slices, so the flush never holds the event loop.
      const appends: ActivityAppend[] = [];
      let sinceYield = 0;
      for (const entries of buffered) {
        if (sinceYield >= SERIALIZE_SLICE) {
          await yieldToEventLoop();
          sinceYield = 0;
        }
        appends.push(entries.toAppend());
        sinceYield += entries.size;
      }
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

  private add<T>(
    pending: Map<string, PendingEntries<T>>,
    customerId: string,
    log: ActivityLogName,
    entry: T,
    maxEntries: number,
    serialize: (entry: T) => string,
  ): void {
    let entries = pending.get(customerId);
    // A full buffer takes no new list, and no list grows; a full ring still takes its newest entries.
    if (this.pendingCount >= MAX_PENDING_ENTRIES && (!entries || entries.size < maxEntries)) {
      this.dropped++;
      return;
    }
    if (!entries) {
      entries = new PendingEntries(customerId, log, maxEntries, serialize);
      pending.set(customerId, entries);
    }
    if (entries.push(entry)) this.pendingCount++;
    if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.options.flushIntervalMs);
      this.timer.unref();
    }
  }
}
