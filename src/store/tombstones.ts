/**
 * Tombstones of deleted users (docs/storage-limits.md): a fixed-size digest per index value a deleted user
 * held, kept for a retention and within a per-connection cap, so that a login by that value is refused as
 * `deleted` rather than `not_provisioned`.
 */
import { hexDigest } from '../digest.js';

/** How long a deletion tombstone counts by default: 90 days, the matching report's horizon. */
export const DEFAULT_TOMBSTONE_RETENTION_MS = 90 * 24 * 60 * 60 * 1000;

/** How many tombstones (index entries of deleted users) one connection keeps at most by default. */
export const DEFAULT_MAX_TOMBSTONES = 1_000_000;

/** Tombstones past their retention dropped per delete at most (keeps every delete's work bounded). */
export const TOMBSTONE_TRIM_BUDGET = 64;

/** The tombstone options both stores take. */
export interface TombstoneOptions {
  /** How long a deleted user's index values count as "deleted" (ms). Default: 90 days. */
  tombstoneRetentionMs?: number;
  /** Most tombstones per connection; the oldest go first. Default: 1,000,000. */
  maxTombstones?: number;
  /** The clock (epoch ms) for tombstones and token expiry. Default: Date.now. For tests. */
  now?: () => number;
}

/** Validates {@link TombstoneOptions} and fills in the defaults. */
export function resolveTombstoneOptions(options: TombstoneOptions): Required<TombstoneOptions> {
  const retention = options.tombstoneRetentionMs ?? DEFAULT_TOMBSTONE_RETENTION_MS;
  const max = options.maxTombstones ?? DEFAULT_MAX_TOMBSTONES;
  if (!Number.isSafeInteger(retention) || retention < 1) throw new TypeError('tombstoneRetentionMs must be a positive integer');
  if (!Number.isSafeInteger(max) || max < 0) throw new TypeError('maxTombstones must be a non-negative integer');
  const now = options.now ?? Date.now;
  if (typeof now !== 'function') throw new TypeError('now must be a function returning epoch milliseconds');
  return { tombstoneRetentionMs: retention, maxTombstones: max, now };
}

/**
 * The tombstone of index value (attribute, value): the first 16 bytes of SHA-1(attribute NUL value), as 32
 * hex characters, whatever the value's length. SHA-1 because it is the one digest Redis's Lua offers (the
 * Redis store computes it inside its delete script); a collision could only make a never-provisioned login
 * read as "deleted" within one connection, and both are refusals.
 */
export function tombstoneDigest(attribute: string, value: string): string {
  return hexDigest('sha1', `${attribute}\u0000${value}`).slice(0, 32);
}
