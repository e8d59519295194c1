/**
 * `sso.events.consume`: at-least-once delivery of the provisioning events to a named consumer group, across
 * any number of app instances, on either store (docs/events.md).
 *
 * Each instance finds connections with new events (the store's announcements of recent writes, plus a rescan
 * of every customer now and then, so a lost announcement only delays), and drains each connection's log
 * under a lease of the store: one instance at a time per (group, connection), events handed to the handler
 * one by one, in log order, the cursor committed after each batch. The lease is renewed while a batch runs
 * and expires `visibilityTimeoutMs` after a crash, when another instance takes the connection over from
 * the last committed cursor: the killed instance's uncommitted batch is delivered again (at least once). A
 * failing handler is retried with exponential backoff, then its event is parked as a dead letter and the
 * connection moves on.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { parseArgument } from '../errors.js';
import { ANNOUNCE_INTERVAL_MS } from '../store/event-consumers.js';
import { EventsExpiredError, MAX_EVENT_PAGE } from '../store/event-log.js';
import type { Store } from '../store/store.js';
import { toProvisioningEvent, type ParsedResources, type ProvisioningEvent } from './event.js';
import { deadLetterOf } from './dead-letters.js';
import { BEFORE_FIRST_WRITE, logTag } from './public-cursor.js';
import { yieldForResource } from '../event-loop.js';

/**
 * How old the last confirmation of a lease may be when an event is handed out. Older, the lease is renewed
 * first, which fails once the connection was deleted: a consumer stops handing out a deleted connection's
 * events within this time, not at its next heartbeat (a third of the visibility timeout, 10 s by default),
 * which let a whole batch (100 events) out after `deleteScimConnection` had resolved (audit 26). A renewal
 * is one store call, so each connection being drained costs at most 10 more a second (`concurrency` of them
 * per instance).
 */
export const LEASE_RECHECK_MS = 100;

/** The longest wait between two attempts of a failing handler: one hour. */
const MAX_RETRY_DELAY_MS = 3_600_000;

export interface ConsumeOptions {
  /** The consumer group: each group gets every event; instances of one group share the work. */
  group: string;
  /** Handles one event; a throw (or rejection) is retried, then parks the event as a dead letter. */
  handler: (event: ProvisioningEvent) => void | Promise<void>;
  /** Connections this instance drains at once (each one's events still in order). Default: 4. */
  concurrency?: number;
  /** Events read and committed together (what a crash may deliver again). Default: 100. */
  batchSize?: number;
  /** How long a connection stays leased to an instance that stopped renewing (crashed). Default: 30_000 ms. */
  visibilityTimeoutMs?: number;
  /** How often an idle instance looks for new events. Default: 500 ms. */
  pollIntervalMs?: number;
  /** How often every customer's connection is checked, whatever the announcements. Default: 60_000 ms. */
  rescanIntervalMs?: number;
  /** Handler attempts per event before it becomes a dead letter. Default: 5. */
  maxAttempts?: number;
  /** The pause before the first retry, doubled for each next one. Default: 250 ms. */
  retryDelayMs?: number;
  /**
   * Called when the group fell behind the retention on a connection (events it never handled were dropped):
   * resynchronise the customer from the directory API, then the group goes on from the log's end as it was
   * before this call. Without it, the connection is reported to the `onError` of scimSso's options and left where it is.
   */
  onExpired?: (info: { customerId: string; error: EventsExpiredError }) => void | Promise<void>;
}

export interface ConsumerHandle {
  /** Stops taking new events, waits for the handlers running now, commits what they finished, releases the leases. */
  stop(): Promise<void>;
}

const optionsSchema = z.strictObject({
  group: z.string().regex(/^[^{}\s\p{Cc}]{1,200}$/u, 'a group name is 1-200 characters without braces, whitespace or control characters'),
  handler: z.custom<ConsumeOptions['handler']>((v) => typeof v === 'function', 'handler must be a function'),
  concurrency: z.number().int().min(1).max(1000).default(4),
  batchSize: z.number().int().min(1).max(MAX_EVENT_PAGE).default(100),
  visibilityTimeoutMs: z.number().int().min(100).default(30_000),
  pollIntervalMs: z.number().int().min(1).default(500),
  rescanIntervalMs: z.number().int().min(1).default(60_000),
  maxAttempts: z.number().int().min(1).max(100).default(5),
  retryDelayMs: z.number().int().min(0).default(250),
  onExpired: z.custom<NonNullable<ConsumeOptions['onExpired']>>((v) => typeof v === 'function', 'onExpired must be a function').optional(),
});

/**
 * Announcements this much older than the last look are read again. Both are on the store's clock (Redis's),
 * which stamps every announcement; the slack covers a store given a clock per instance (tests) and a Redis
 * failover to a server whose clock differs a little.
 */
const CLOCK_SLACK_MS = 5_000;

export function startConsumer(store: Store, input: ConsumeOptions, onError: (error: unknown) => void): ConsumerHandle {
  const options = parseArgument(optionsSchema, input, 'events.consume');
  const { group, visibilityTimeoutMs: ttl } = options;
  const owner = randomUUID().replace(/-/g, '');
  const due = new Set<string>();
  const running = new Map<string, Promise<void>>();
  /** Drains of a connection that failed in a row (bounded by the connections this consumer drains). */
  const failedDrains = new Map<string, number>();
  const timers = new Set<NodeJS.Timeout>();
  let stopping = false;
  /** The pauses under way (their wake-ups): stop() ends them all. */
  const pausing = new Set<() => void>();
  /** Ends the main loop's idle wait early (a drain finished: a slot is free). */
  let kick = () => {};
  let lastRescan = -Infinity;
  /** The time of the last announcement acted on, per connection: the same announcement seen again is not news. */
  const announced = new Map<string, number>();
  /**
   * The connections the last rescan found, and those announced since: only these are looked at again when
   * another instance holds their lease. A deleted connection is in neither after the next rescan, so it is
   * not polled for ever (the store answers a missing connection's lease as a held one: null).
   */
  let live = new Set<string>();
  const announcedSinceRescan = new Set<string>();
  /** Where the next look starts, on the store's clock (null: not known before the first look). */
  let since: number | null = null;

  /**
   * Waits `ms`, or until stopped or `early` settles; answers false when stopped. Not a Promise.race with one
   * promise settled at stop: every race left a reaction on it until the stop, and an idle consumer polling
   * every second grew its heap with every poll (a soak audit, 2026-12-07).
   */
  const pause = (ms: number, early?: Promise<void>): Promise<boolean> =>
    new Promise<boolean>((resolve) => {
      if (stopping) return resolve(false);
      const wake = () => {
        clearTimeout(timer);
        pausing.delete(wake);
        resolve(!stopping);
      };
      const timer = setTimeout(wake, ms);
      pausing.add(wake);
      void early?.then(wake, wake);
    });

  /** Looks at the connection again after `ms` (its lease is another instance's now). */
  const later = (connectionId: string, ms: number) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      due.add(connectionId);
    }, ms);
    timer.unref();
    timers.add(timer);
  };

  async function discover(): Promise<void> {
    if (Date.now() - lastRescan >= options.rescanIntervalMs) {
      lastRescan = Date.now();
      const found = new Set<string>();
      for (const customerId of await store.listCustomers()) {
        const connection = await store.getConnectionByCustomer(customerId);
        if (connection) found.add(connection.connectionId);
      }
      for (const connectionId of found) due.add(connectionId);
      // Announcements of connections gone, once too old to be read again (CLOCK_SLACK_MS), are forgotten.
      for (const [connectionId, at] of announced) if (!found.has(connectionId) && since !== null && at < since) announced.delete(connectionId);
      live = found;
      announcedSinceRescan.clear();
    }
    // The first look starts CLOCK_SLACK_MS before the store's clock, read first (from past every announcement).
    since ??= (await store.activeEventConnections(Number.MAX_SAFE_INTEGER)).now - CLOCK_SLACK_MS;
    const { now, connections } = await store.activeEventConnections(since);
    for (const { connectionId, at } of connections) {
      // The same announcement read again (the slack window) is not news; any other time is, even an earlier
      // one: a later write can carry an earlier time (stores given a clock per instance, a Redis failover).
      if (announced.get(connectionId) === at) continue;
      announced.set(connectionId, at);
      announcedSinceRescan.add(connectionId);
      due.add(connectionId);
      // Writes right after an announcement go unannounced for a while: look again once that is over.
      later(connectionId, ANNOUNCE_INTERVAL_MS + options.pollIntervalMs);
    }
    since = now - CLOCK_SLACK_MS;
  }

  /**
   * Hands one event to the handler, retrying with backoff, then parking it; false when stopped meanwhile, or
   * when the lease is no longer surely held (`held`) before a retry or the parking: another instance may have
   * the event by then.
   */
  async function deliver(event: ProvisioningEvent, held: () => Promise<boolean>): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        await options.handler(event);
        return true;
      } catch (error) {
        if (!(await held())) return false;
        if (attempt >= options.maxAttempts) {
          await store.addDeadLetter(group, deadLetterOf(group, event, error, attempt));
          return true;
        }
        // Exponential backoff, capped below Node's timer limit (a longer timeout would fire at once).
        if (!(await pause(Math.min(options.retryDelayMs * 2 ** (attempt - 1), MAX_RETRY_DELAY_MS))) || !(await held())) return false;
      }
    }
  }

  /** The cursor to go on from after the group fell behind the retention, or null to leave the connection. */
  async function resync(connectionId: string, customerId: string, error: EventsExpiredError): Promise<string | null> {
    if (!options.onExpired) {
      onError(new EventsExpiredError(`events.consume(${group}): customer ${customerId} is behind the event retention; resync it (see onExpired)`));
      return null;
    }
    const end = await store.lastEventCursor(connectionId);
    await options.onExpired({ customerId, error });
    return end;
  }

  /** Drains one connection's log under its lease, batch by batch. */
  async function drain(connectionId: string): Promise<void> {
    const claimedAt = Date.now();
    const lease = await store.claimEventLease(group, connectionId, owner, ttl);
    if (!lease) {
      if (live.has(connectionId) || announcedSinceRescan.has(connectionId)) later(connectionId, Math.ceil(ttl / 2));
      return;
    }
    // A group's first read of a connection starts before the log's first write, not at the oldest event
    // kept: when retention or the caps have dropped writes already, the group is told (onExpired) instead
    // of starting silently past them.
    let cursor: string | null = lease.cursor ?? BEFORE_FIRST_WRITE;
    let lost = false;
    // Until when the lease is surely this instance's: a renewal sent at t holds it until t + ttl. Another
    // instance may take the connection over after that, so an event is handed out only while a third of the
    // lease (a heartbeat's interval) is surely left, room for the handler to finish: heartbeats that hang (a
    // partition) must not let two instances deliver one customer's events at once.
    let heldUntil = claimedAt + ttl;
    let confirmedAt = claimedAt;
    const commit = async (to?: string): Promise<boolean> => {
      const sentAt = Date.now();
      const held = await store.commitEventCursor(group, connectionId, owner, ttl, to);
      if (held) {
        heldUntil = Math.max(heldUntil, sentAt + ttl);
        confirmedAt = Math.max(confirmedAt, sentAt);
      } else lost = true;
      return held;
    };
    const stillHeld = () => !lost && Date.now() < heldUntil - ttl / 3;
    /**
     * Whether an event may be handed out (or retried, or parked) now: the lease is surely held, renewed first
     * when its last confirmation is old. A renewal that fails (the store unreachable) answers false: the
     * batch stops there and commits what it handed out, as a stop does.
     */
    const mayHandOut = async (): Promise<boolean> => {
      if (!stillHeld()) return false;
      if (Date.now() - confirmedAt < LEASE_RECHECK_MS) return true;
      try {
        return (await commit()) && stillHeld();
      } catch (error) {
        onError(error);
        return false;
      }
    };
    const heartbeat = setInterval(() => void commit().catch(onError), Math.ceil(ttl / 3));
    heartbeat.unref();
    try {
      while (!stopping && stillHeld()) {
        let page;
        try {
          page = await store.readEvents(connectionId, cursor, options.batchSize);
        } catch (error) {
          if (!(error instanceof EventsExpiredError)) throw error;
          const end = await resync(connectionId, lease.customerId, error);
          if (end === null || !(await commit(end))) return;
          cursor = end;
          continue;
        }
        if (page.events.length === 0) {
          // Caught up when the cursor stays; a page that only moved it past entries without events reads on.
          if (page.next === null || page.next === cursor) return;
          if (!(await commit(page.next))) return;
          cursor = page.next;
          continue;
        }
        let finished = true;
        const parsed: ParsedResources = new Map();
        const tag = logTag(connectionId);
        for (const stored of page.events) {
          if (stopping || !(await mayHandOut()) || !(await deliver(toProvisioningEvent(stored, lease.customerId, connectionId, parsed, tag), mayHandOut))) {
            finished = false;
            break;
          }
          cursor = stored.cursor;
          // A large resource is parsed in a turn of its own: on the memory store nothing else yields here,
          // and 100 events of a 0.8 MB user held the loop 2.2-2.9 s (an audit, 2026-12-07).
          await yieldForResource({ json: stored.json ?? '' });
        }
        if (finished) cursor = page.next;
        if (cursor !== null && !(await commit(cursor))) return;
      }
    } finally {
      clearInterval(heartbeat);
      await store.releaseEventLease(group, connectionId, owner).catch(onError);
      // Stopped because the lease was not surely held: look again once it has surely lapsed or been renewed.
      if (!stopping && !stillHeld()) later(connectionId, Math.ceil(ttl / 2));
    }
  }

  const loop = (async () => {
    while (!stopping) {
      try {
        await discover();
      } catch (error) {
        onError(error);
      }
      for (const connectionId of due) {
        if (running.size >= options.concurrency) break;
        if (running.has(connectionId)) continue;
        due.delete(connectionId);
        const run = drain(connectionId)
          .then(() => void failedDrains.delete(connectionId))
          .catch((error: unknown) => {
            onError(error);
            // A drain that keeps failing (a throwing onExpired, an unreachable store) is tried again with
            // exponential backoff from pollIntervalMs, as a failing handler is, not every poll.
            const failures = (failedDrains.get(connectionId) ?? 0) + 1;
            failedDrains.set(connectionId, failures);
            later(connectionId, Math.min(options.pollIntervalMs * 2 ** (failures - 1), MAX_RETRY_DELAY_MS));
          })
          .finally(() => {
            running.delete(connectionId);
            kick();
          });
        running.set(connectionId, run);
      }
      // Connections waiting for a free slot: go on as soon as a drain ends (it kicks this pause); else poll.
      const waiting = [...due].some((connectionId) => !running.has(connectionId));
      await pause(options.pollIntervalMs, waiting ? new Promise<void>((resolve) => (kick = resolve)) : undefined);
    }
    await Promise.all(running.values());
  })();

  return {
    async stop() {
      stopping = true;
      for (const wake of [...pausing]) wake();
      for (const timer of timers) clearTimeout(timer);
      await loop;
    },
  };
}
