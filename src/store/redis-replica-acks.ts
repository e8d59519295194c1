/**
 * Writes acknowledged by replicas before they are answered (`replicaAcks` of RedisStoreOptions). Redis
 * replicates asynchronously: a deactivation the primary applied and answered, but had not sent to its
 * replica when the replica was promoted, is lost, and the IdP, which got its 2xx, never sends it again; so
 * is a token rotation that revoked a leaked token. With `replicaAcks`, a SCIM write or a change of settings
 * is answered only once `replicas` replicas hold it (Redis's `WAIT`), else it is a 503 that the IdP (or the
 * admin) retries (docs/redis-deployment.md).
 *
 * `WAIT` waits for the writes of the connection it is sent on, and blocks that connection meanwhile. Sent on
 * the app's shared client it would hold every other request behind it while replicas answer (and for
 * `timeoutMs` while one is away), so it goes on a connection of the store's own (`client.duplicate()`),
 * after a small write there (the marker), which Redis orders after every write it has already answered on
 * any connection: replicas that hold the marker hold those writes too. Writes that end while a `WAIT` is out
 * share the next one (a group commit): one `WAIT` at a time per Redis server, whichever tenants wrote, so
 * none queues behind another's on the store's connection. On a Cluster that is one per master, and the
 * marker carries the connection's hash tag, so the pair goes to the master holding the connection's keys.
 */
import type { Cluster, Redis } from 'ioredis';
import { yieldToEventLoop } from '../event-loop.js';
import { clusterSlot } from './cluster-slot.js';
import type { Store } from './store.js';
import { StoreUnavailableError } from './unavailable.js';

/** How many replicas must hold a write before it is answered, and how long to wait for them. */
export interface ReplicaAckOptions {
  /** Replicas that must acknowledge each write: 1 or more. */
  replicas: number;
  /** Most milliseconds a write waits for them; past it the write is answered 503 (it stays on the primary). */
  timeoutMs: number;
}

/** The marker's time to live: it only has to outlive its `WAIT`. */
const MARKER_TTL_MS = 60_000;

/** Throws a TypeError unless `options` are whole numbers in range. */
export function checkReplicaAckOptions(options: ReplicaAckOptions): ReplicaAckOptions {
  const { replicas, timeoutMs } = options;
  if (!Number.isSafeInteger(replicas) || replicas < 1 || replicas > 100) throw new TypeError('replicaAcks.replicas must be an integer from 1 to 100');
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 60_000) throw new TypeError('replicaAcks.timeoutMs must be an integer from 1 to 60,000');
  return { replicas, timeoutMs };
}

/** The store connection's `commandTimeout` when the app's client has none: a WAIT's own time and this much more. */
const OWN_COMMAND_MARGIN_MS = 2_000;

/**
 * A connection like `client` (its credentials, TLS, retry strategy; a Cluster: its current masters, then its
 * startup nodes), connecting now and queueing what is sent before it is up (the app's client may be lazy and
 * without an offline queue, as README "Guarantees" recommends: its duplicate would then refuse every
 * command), with a `commandTimeout` of `timeoutMs` more than the client's (or than
 * {@link OWN_COMMAND_MARGIN_MS} when it has none), so that a WAIT is not cut short, and nothing waits longer.
 */
function ownConnection(client: Redis | Cluster, timeoutMs: number): Redis | Cluster {
  const longer = (commandTimeout: number | undefined) => ({ commandTimeout: (commandTimeout ?? OWN_COMMAND_MARGIN_MS) + timeoutMs });
  if (client.isCluster) {
    const cluster = client as Cluster;
    const redisOptions = { ...cluster.options.redisOptions, ...longer(cluster.options.redisOptions?.commandTimeout) };
    const masters = cluster.nodes('master').map((node) => ({ host: node.options.host, port: node.options.port }));
    return cluster.duplicate(masters.length > 0 ? masters : undefined, { lazyConnect: false, enableOfflineQueue: true, redisOptions });
  }
  const redis = client as Redis;
  return redis.duplicate({ lazyConnect: false, enableOfflineQueue: true, ...longer(redis.options.commandTimeout) });
}

/**
 * One marker key per master of `cluster`, in a slot it holds by the cluster's slot map: `<prefix>ack:{n}`,
 * the first n that lands on each, remembered in `known` while it still lands there. A few tries per master
 * usually; a master holding few slots may take thousands, so the search yields every
 * {@link MARKER_TRIES_PER_STEP} tries and gives up after {@link MARKER_TRIES} (that write is then a 503).
 */
async function markerPerMaster(cluster: Cluster, prefix: string, known: Map<string, string>): Promise<string[]> {
  const masters = new Set<string>();
  for (const owners of cluster.slots) if (owners?.[0]) masters.add(owners[0]);
  const ownerOf = (key: string) => cluster.slots[clusterSlot(key)]?.[0];
  for (const [master, key] of known) if (!masters.has(master) || ownerOf(key) !== master) known.delete(master);
  for (let n = 0; known.size < masters.size; n++) {
    if (n === MARKER_TRIES) throw new StoreUnavailableError(`no marker key found for every master of the cluster in ${MARKER_TRIES} tries`);
    if (n > 0 && n % MARKER_TRIES_PER_STEP === 0) await yieldToEventLoop();
    const key = `${prefix}ack:{${n}}`;
    const owner = ownerOf(key);
    if (owner && !known.has(owner)) known.set(owner, key);
  }
  return [...known.values()];
}

/** Tries of markerPerMaster between two yields (about 1 ms), and in all (16 × the slots a master may hold). */
const MARKER_TRIES_PER_STEP = 1_000;
const MARKER_TRIES = 16 * 16_384;

/** One Redis server's waits: the one out, the one writes that ended after it was sent will share. */
interface Barrier {
  out: Promise<void> | null;
  next: Promise<void> | null;
}

export interface ReplicaAcks {
  /**
   * Resolves once `replicas` replicas hold every write the primary answered before this call, on the Redis
   * server holding `markerKey` (a key beside the written ones: the same Cluster slot); rejects with a
   * StoreUnavailableError when they do not within `timeoutMs`, or the wait cannot be sent.
   */
  confirm(markerKey: string): Promise<void>;
  /** As {@link confirm}, on every Redis server (every master of a Cluster), markers under `prefix`. */
  confirmEverywhere(prefix: string): Promise<void>;
  /** Closes the connection WAIT is sent on, if one was opened. */
  close(): Promise<void>;
}

export function replicaAcks(client: Redis | Cluster, options: ReplicaAckOptions): ReplicaAcks {
  const { replicas, timeoutMs } = checkReplicaAckOptions(options);
  let own: Redis | Cluster | null = null;
  let closed = false;
  /** Whether onEnd is registered on the app's client (once, however often the store's connection is made). */
  let listening = false;
  // The app's client ended (its quit()): so does the store's connection, which must never keep the process
  // alive on its own; should the app connect its client again, the next write opens a new one.
  const onEnd = () => {
    listening = false;
    own?.disconnect();
    own = null;
  };
  /**
   * The connection WAIT is sent on, made at the first write (a store that never writes opens none), and
   * again after it ended on its own (its retry strategy gave up).
   */
  const connection = (): Redis | Cluster => {
    if (closed) throw new StoreUnavailableError('the store is closed');
    if (own) return own;
    const made = ownConnection(client, timeoutMs);
    own = made;
    if (!listening) client.once('end', onEnd);
    listening = true;
    made.once('end', () => {
      if (own === made) own = null;
    });
    // Its failures reach the writes waiting on it (a 503 each); ioredis prints an error no listener takes.
    made.on('error', () => {});
    return made;
  };
  /** Barriers by Redis server: one on a standalone server, one per master on a Cluster (by the app's slot map). */
  const barriers = new Map<string, Barrier>();
  const serverOf = (markerKey: string): string => {
    if (!client.isCluster) return '';
    const slot = clusterSlot(markerKey);
    return (client as Cluster).slots[slot]?.[0] ?? `slot ${slot}`;
  };

  /**
   * Where the marker and WAIT of `server` go: on a Cluster, the store's connection to that master itself
   * (the writes went where the app's slot map sent them, so a WAIT elsewhere would wait for nothing of
   * theirs; a marker whose slot has moved is refused there, MOVED); routed by the marker's slot while that
   * connection does not know the master yet.
   */
  const sender = (on: Redis | Cluster, server: string): Redis | Cluster =>
    (on.isCluster && (on as Cluster).nodes('master').find((node) => `${node.options.host}:${node.options.port}` === server)) || on;

  async function waitOnce(server: string, markerKey: string): Promise<void> {
    const on = connection();
    let replies: [Error | null, unknown][];
    try {
      replies = (await sender(on, server).pipeline().set(markerKey, '1', 'PX', MARKER_TTL_MS).wait(replicas, timeoutMs).exec()) ?? [];
      for (const [error] of replies) if (error) throw error;
    } catch (error) {
      // The write is applied; only its acknowledgement failed, so the answer is a 503 the IdP retries: a
      // refused or unknown WAIT, the connection away, or a slot that moved (the pipeline is not redirected,
      // so the slot map is refreshed for the retry).
      if (/^(MOVED|ASK) /.test((error as Error).message ?? '')) (on as Cluster).refreshSlotsCache?.();
      throw new StoreUnavailableError(`the write was applied but its replicas could not be asked to acknowledge it: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const acknowledged = Number(replies[1]?.[1]);
    if (!(acknowledged >= replicas)) {
      throw new StoreUnavailableError(`the write was applied but ${acknowledged} of ${replicas} replicas acknowledged it within ${timeoutMs} ms`);
    }
  }

  function confirm(markerKey: string): Promise<void> {
    const server = serverOf(markerKey);
    let barrier = barriers.get(server);
    if (!barrier) barriers.set(server, (barrier = { out: null, next: null }));
    const b = barrier;
    if (!b.out) return start(server, markerKey, b);
    // A WAIT is out, sent before this write ended: it may not cover it. Share the one sent after it; any
    // marker on this server will do for it.
    b.next ??= b.out.then(
      () => start(server, markerKey, b, true),
      () => start(server, markerKey, b, true),
    );
    return b.next;
  }

  function start(server: string, markerKey: string, b: Barrier, fromNext = false): Promise<void> {
    if (fromNext) b.next = null;
    const out = waitOnce(server, markerKey).finally(() => {
      if (b.out === out) b.out = null;
      if (!b.out && !b.next && barriers.get(server) === b) barriers.delete(server);
    });
    b.out = out;
    return out;
  }

  const knownMarkers = new Map<string, string>();
  async function confirmEverywhere(prefix: string): Promise<void> {
    const markers = client.isCluster ? await markerPerMaster(client as Cluster, prefix, knownMarkers) : [];
    if (markers.length === 0) return confirm(`${prefix}ack`);
    await Promise.all(markers.map(confirm));
  }

  return {
    confirm,
    confirmEverywhere,
    close: async () => {
      closed = true;
      client.off('end', onEnd);
      listening = false;
      const closing = own;
      own = null;
      await closing?.quit().catch(() => {});
    },
  };
}

/** The store's writes that change who may provision or log in, besides the SCIM writes: each touches keys in several slots. */
const SETTINGS_WRITES = [
  'createConnection',
  'updateConnectionTokens',
  'deleteConnection',
  'setRoleMapping',
  'createOidcClient',
  'replaceOidcClient',
  'deleteOidcClient',
  'createSamlConnection',
  'replaceSamlConnection',
  'deleteSamlConnection',
  'putSetupGrant',
  'revokeSetupGrants',
] as const;

/**
 * `store` with `confirmWrites` (which the SCIM layer awaits before answering a write request, whatever its
 * outcome: src/scim/handler.ts) waiting on the server holding the connection's keys (`tag(connectionId)`
 * names them), and its writes of settings (tokens, connections, SSO settings, role mappings, setup links)
 * answered only once replicas hold them, on every master, since their keys lie in several slots. Logins'
 * records, the SAML replay cache, the activity log and event consumers' cursors do not wait
 * (docs/redis-deployment.md).
 */
export function withReplicaAcks<S extends Store>(store: S, acks: ReplicaAcks, prefix: string, tag: (connectionId: string) => string): S {
  const wrapped = { ...store } as Record<string, unknown>;
  wrapped.confirmWrites = (connectionId: string) => acks.confirm(`${tag(connectionId)}ack`);
  for (const name of SETTINGS_WRITES) {
    const method = (store as unknown as Record<string, unknown>)[name];
    if (typeof method !== 'function') continue;
    wrapped[name] = async (...args: unknown[]) => {
      const outcome: unknown = await (method as (...a: unknown[]) => Promise<unknown>).apply(store, args);
      await acks.confirmEverywhere(prefix);
      return outcome;
    };
  }
  return wrapped as S;
}
