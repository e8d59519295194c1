/**
 * Recognises "the store cannot serve now" among errors, so the SCIM routes answer 503 and the guard fails
 * closed, instead of a generic 500: a server that cannot be reached (ioredis reports it in a few ways), and
 * one that is up but refuses commands for a while (out of memory, busy with a script, a failed save). They
 * are listed here.
 */

/** Thrown by stores (or wrapped around client errors) when the backing service is unreachable. */
export class StoreUnavailableError extends Error {
  constructor(message = 'the store is unavailable', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

const UNAVAILABLE_MESSAGES = [
  'Connection is closed',
  "Stream isn't writeable",
  'Reached the max retries per request limit',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'Command timed out',
  'CLUSTERDOWN',
  'LOADING',
  'TRYAGAIN',
  'Failed to refresh slots cache',
  'None of startup nodes is available',
  // Redis Cluster: the master owning a slot is down, or the whole cluster is.
  'Too many Cluster redirections',
  "Cluster isn't ready",
  'Cluster is disconnected',
  'Node is disconnected',
  // A replica answering where a master was (a failover in progress or gone wrong): its own master is
  // unreachable (MASTERDOWN, with replica-serve-stale-data no), or it refuses writes (READONLY).
  'MASTERDOWN',
  'READONLY',
  // Up, but refusing for a while: `maxmemory` reached under `noeviction` (a script's first write is refused,
  // so nothing is half-written), a script running past `busy-reply-threshold`, writes stopped after a failed
  // snapshot, or too few replicas for `min-replicas-to-write`.
  'OOM command not allowed',
  'BUSY Redis is busy',
  'MISCONF',
  'NOREPLICAS',
  // A script stopped by SCRIPT KILL, and an ACL user refused a command the store needs (a misconfiguration,
  // answered as an outage: 503 and a refused login, never a 500; docs/redis-deployment.md).
  'Script killed',
  'NOPERM',
];

/**
 * Whether the store refuses writes while its data stays current and readable: Redis at `maxmemory` under
 * `noeviction`, too few replicas for `min-replicas-to-write`, writes stopped after a failed snapshot. Not a
 * replica's READONLY: a replica may be behind its master (a deactivation not there yet).
 */
export function refusesWritesOnly(error: unknown): boolean {
  const message = error instanceof Error ? error.message : '';
  return message.includes('OOM command not allowed') || message.includes('NOREPLICAS') || message.includes('MISCONF');
}

export function isStoreUnavailable(error: unknown): boolean {
  if (saysUnavailable(error)) return true;
  // A transaction Redis discarded (EXECABORT) carries the errors of its commands: unavailable if one was.
  // One level only: ioredis may list an error among its own previousErrors.
  const previous = error instanceof Error ? (error as { previousErrors?: unknown }).previousErrors : undefined;
  return Array.isArray(previous) && previous.some(saysUnavailable);
}

/** Whether an error itself says the store cannot be reached (its own message or type, nothing it wraps). */
function saysUnavailable(error: unknown): boolean {
  if (error instanceof StoreUnavailableError) return true;
  if (!(error instanceof Error)) return false;
  // A refused argument, whatever its message quotes (a claim named READONLY): never an outage.
  if (error instanceof TypeError || error instanceof RangeError) return false;
  if (error.name === 'MaxRetriesPerRequestError') return true;
  return UNAVAILABLE_MESSAGES.some((m) => error.message.includes(m));
}

/**
 * The store's methods with every failure to reach the backing service thrown as a StoreUnavailableError
 * (the client's error as its `cause`), other errors as they are: an app catches an outage by class, from
 * `sso.directory`, `sso.events` or a configuration call alike, whichever client error ioredis raised (an
 * integrator's walkthrough, 2026-12-07, got `MaxRetriesPerRequestError` and "Stream isn't writeable" from
 * them). Calls between the store's own parts are not wrapped; only what it hands out is. `gate`: asked
 * before every call but `close`: an error to fail with instead, a promise to wait for first, or null (the
 * Redis store's eviction check, src/store/redis-eviction.ts).
 */
export function reportingUnavailable<T extends object>(store: T, gate?: () => Error | Promise<void> | null): T {
  const wrapped = { ...store } as Record<string, unknown>;
  for (const [name, method] of Object.entries(store)) {
    if (typeof method !== 'function') continue;
    wrapped[name] = function (this: unknown, ...args: unknown[]): unknown {
      const call = (): unknown => {
        const result: unknown = method.apply(this, args);
        return result instanceof Promise ? result.catch(asUnavailable) : result;
      };
      const gated = name === 'close' ? null : (gate?.() ?? null);
      if (gated === null) return call();
      if (gated instanceof Error) return Promise.reject(gated);
      // Waited for once: then only a refusal stops the call (a check that could not answer lets it go on).
      return gated.then(() => {
        const after = gate!();
        if (after instanceof Error) throw after;
        return call();
      });
    };
  }
  return wrapped as T;
}

function asUnavailable(error: unknown): never {
  if (error instanceof StoreUnavailableError || !isStoreUnavailable(error)) throw error;
  throw new StoreUnavailableError(`the store is unavailable: ${(error as Error).message}`, { cause: error });
}
