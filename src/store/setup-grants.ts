/**
 * Setup grants: what the self-serve setup portal (docs/setup-portal.md) keeps in the store. A grant is a
 * setup link handed to a customer's IT admin, or a portal session opened with one. Either is a secret held
 * only as its SHA-256 hash (hex), scoped to one customer, expiring, and revocable per customer: revoking
 * counts one more revocation of the customer, and every grant stored before it counts as revoked
 * (SetupGrantStore below). Grants are
 * kept a while past their expiry (SETUP_GRANT_RETENTION_MS, a week, for links; SESSION_GRANT_RETENTION_MS,
 * an hour, for sessions) so that the portal can say "this link has expired" rather than "unknown link";
 * then they are forgotten.
 */
import { isValidStoreId } from './store-id.js';

export type SetupArea = 'sso' | 'scim';
export const SETUP_AREAS: readonly SetupArea[] = ['sso', 'scim'];

export interface StoredSetupGrant {
  /** SHA-256 (hex) of the link token or session token. */
  hash: string;
  kind: 'link' | 'session';
  customerId: string;
  /** What the holder may set up. */
  allow: SetupArea[];
  /** Epoch ms. */
  createdAt: number;
  /** Epoch ms; after it the grant is `expired`. */
  expiresAt: number;
  /** For a session: the hash of the link it was opened with; null for a link. */
  linkHash: string | null;
}

export type SetupGrantStatus = 'valid' | 'expired' | 'revoked';

export interface SetupGrantLookup {
  grant: StoredSetupGrant;
  status: SetupGrantStatus;
}

/** How long a link is remembered after it expired (to tell "expired" from "unknown"). */
export const SETUP_GRANT_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * How long a portal session is remembered after it ended: an hour, to say "expired" to a tab left open.
 * Not a link's week: every open of a link stores a session, and a week of them per open let one link
 * holder grow the shared store without bound (audit 24).
 */
export const SESSION_GRANT_RETENTION_MS = 60 * 60 * 1000;

/** Until when a grant is kept: its expiry plus its kind's retention. */
export const keptUntil = (grant: StoredSetupGrant): number =>
  grant.expiresAt + (grant.kind === 'session' ? SESSION_GRANT_RETENTION_MS : SETUP_GRANT_RETENTION_MS);

/**
 * Revocation is counted, not timed: each revocation of a customer moves its revocation count on, and a grant
 * is stamped with the count when it is put; it is revoked once the count has moved past its stamp. No clock
 * is compared, so neither instances' clock skew nor a revocation and a creation in the same millisecond can
 * leave a revoked link working or a new one dead. A put that races a revocation may be stamped before it
 * (revoked: the safe side).
 */
export interface SetupGrantStore {
  /** Stores a grant, stamped with its customer's revocation count (a second put of the same hash replaces it). Two round trips on Redis. */
  putSetupGrant(grant: StoredSetupGrant): Promise<void>;
  /**
   * The grant with this hash and whether it is valid, expired or revoked (revoked wins over expired); null
   * when it was never stored or is past retention. Two round trips on Redis (grant, then its customer's
   * revocation count).
   */
  getSetupGrant(hash: string): Promise<SetupGrantLookup | null>;
  /** Revokes every grant of the customer put up to now (links and sessions). */
  revokeSetupGrants(customerId: string): Promise<void>;
}

export const HASH = /^[0-9a-f]{64}$/;

/** Throws a TypeError unless the grant is well-formed; returns a copy holding only its known fields. */
export function checkSetupGrant(grant: StoredSetupGrant): StoredSetupGrant {
  if (!grant || typeof grant !== 'object') throw new TypeError('setup grant must be an object');
  const { hash, kind, customerId, allow, createdAt, expiresAt, linkHash } = grant;
  if (typeof hash !== 'string' || !HASH.test(hash)) throw new TypeError('setup grant hash must be 64 lower-case hex characters');
  if (kind !== 'link' && kind !== 'session') throw new TypeError("setup grant kind must be 'link' or 'session'");
  if (!isValidStoreId(customerId)) throw new TypeError('setup grant customerId is not a valid id');
  if (!Array.isArray(allow) || allow.length === 0 || allow.length > 2 || !allow.every((a) => SETUP_AREAS.includes(a)) || new Set(allow).size !== allow.length) {
    throw new TypeError("setup grant allow must list 'sso' and/or 'scim' once each");
  }
  if (!Number.isSafeInteger(createdAt) || !Number.isSafeInteger(expiresAt) || expiresAt <= createdAt) {
    throw new TypeError('setup grant createdAt and expiresAt must be epoch ms, expiresAt after createdAt');
  }
  if (kind === 'session' ? typeof linkHash !== 'string' || !HASH.test(linkHash) : linkHash !== null) {
    throw new TypeError('setup grant linkHash must be the link hash for a session, null for a link');
  }
  return { hash, kind, customerId, allow: [...allow], createdAt, expiresAt, linkHash };
}

/** The status of a grant at `now`, given whether a revocation came after it was put. Pure. */
export function setupGrantStatus(grant: StoredSetupGrant, revoked: boolean, now: number): SetupGrantStatus {
  if (revoked) return 'revoked';
  return grant.expiresAt <= now ? 'expired' : 'valid';
}

/** The memory store's grants: two maps, entries past retention dropped as new ones arrive. */
export function memorySetupGrants(now: () => number): SetupGrantStore {
  const grants = new Map<string, { grant: StoredSetupGrant; stamp: number }>();
  /** customerId → how many revocations so far. */
  const revocations = new Map<string, number>();
  const prune = () => {
    const at = now();
    for (const [hash, { grant }] of grants) if (keptUntil(grant) <= at) grants.delete(hash);
  };
  return {
    async putSetupGrant(grant) {
      const checked = checkSetupGrant(grant);
      prune();
      grants.set(checked.hash, { grant: checked, stamp: revocations.get(checked.customerId) ?? 0 });
    },
    async getSetupGrant(hash) {
      if (typeof hash !== 'string' || !HASH.test(hash)) return null;
      const found = grants.get(hash);
      if (!found || keptUntil(found.grant) <= now()) return null;
      const { grant, stamp } = found;
      const revoked = (revocations.get(grant.customerId) ?? 0) > stamp;
      return { grant: { ...grant, allow: [...grant.allow] }, status: setupGrantStatus(grant, revoked, now()) };
    },
    async revokeSetupGrants(customerId) {
      if (!isValidStoreId(customerId)) throw new TypeError('customerId is not a valid id');
      revocations.set(customerId, (revocations.get(customerId) ?? 0) + 1);
    },
  };
}
