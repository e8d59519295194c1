/**
 * Bearer-token authentication of SCIM requests. Tokens are 256 random bits, shown once, and stored only
 * as their SHA-256 hash; the store finds a connection by that hash, and the hash is then compared again in
 * constant time, so no comparison on the request path depends on secret bytes.
 *
 * A connection found by its CURRENT token is remembered in this process for a short time (TokenCache,
 * default 5 s), so a request costs no store round trip for its token: a token rotated away or a connection
 * deleted through another instance keeps working here for at most that time (docs/round-trips.md).
 * Previous tokens in their grace period are checked in the store on every request (their expiry stays
 * exact), and a rotation or deletion through this instance forgets its entries at once.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { hexDigest } from '../digest.js';
import { ScimError } from '../errors.js';
import { CACHE_LIMITS, Lru } from '../lru.js';
import type { Store, StoredConnection } from '../store/store.js';

/** A new token: `scim_` followed by 32 random bytes in base64url (256 bits of randomness). */
export function generateToken(): string {
  return `scim_${randomBytes(32).toString('base64url')}`;
}

/** The SHA-256 of a token, hex: what the store keeps and finds connections by. Runs on every SCIM request. */
export function hashToken(token: string): string {
  return hexDigest('sha256', token);
}

function sameHash(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && left.length > 0 && timingSafeEqual(left, right);
}

const unauthorized = (detail: string) => new ScimError(401, detail, undefined, { 'WWW-Authenticate': 'Bearer realm="SCIM"' });

/** Reads `Authorization: Bearer <token>` (scheme case-insensitive, RFC 6750 §2.1). */
export function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const match = /^\s*bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1]! : null;
}

/** How long a token found good is trusted without the store, by default (ms). */
export const DEFAULT_TOKEN_CACHE_MS = 5000;

/** Options of {@link TokenCache}. */
export interface TokenCacheOptions {
  /** How long (ms) a connection found by its current token is trusted; 0 turns the cache off. Default 5000. */
  ttlMs?: number;
  /** Most tokens remembered (least recently used go first). Default CACHE_LIMITS.scimTokens. */
  capacity?: number;
  /** The clock (epoch ms). Default Date.now. For tests: move it, never sleep. */
  now?: () => number;
}

/**
 * Connections by the hash of their current token, each trusted until `ttlMs` after it was read from the
 * store. Only positive answers are kept (random tokens cannot fill it), in a bounded LRU (src/lru.ts).
 */
export class TokenCache {
  readonly ttlMs: number;
  private readonly now: () => number;
  private readonly entries: Lru<string, { connection: StoredConnection; until: number }>;
  /**
   * Moves on every forget. A store read that began before a forget may return the record the forget was
   * about (the old token, a deleted connection): such a read must not refill the cache after the forget.
   */
  private generation = 0;

  constructor(options: TokenCacheOptions = {}) {
    const ttl = options.ttlMs ?? DEFAULT_TOKEN_CACHE_MS;
    if (!Number.isSafeInteger(ttl) || ttl < 0) throw new RangeError('token cache ttlMs must be a non-negative integer');
    this.ttlMs = ttl;
    this.now = options.now ?? Date.now;
    this.entries = new Lru(options.capacity ?? CACHE_LIMITS.scimTokens);
  }

  get size(): number {
    return this.entries.size;
  }

  /** The connection remembered for this token hash, if still within its time. */
  get(hash: string): StoredConnection | null {
    const entry = this.entries.get(hash);
    if (!entry) return null;
    if (entry.until > this.now()) return entry.connection;
    this.entries.delete(hash);
    return null;
  }

  /** Taken before a store read; hand it to {@link set} with what the read returned. */
  ticket(): number {
    return this.generation;
  }

  /** Remembers a connection read from the store by its current token hash, unless a forget happened since `ticket`. */
  set(hash: string, connection: StoredConnection, ticket: number): void {
    if (this.ttlMs > 0 && ticket === this.generation) this.entries.set(hash, { connection, until: this.now() + this.ttlMs });
  }

  /** Forgets the customer's connection (its token was rotated, or it was deleted, through this instance). */
  forgetCustomer(customerId: string): void {
    this.generation++;
    this.entries.deleteWhere((entry) => entry.connection.customerId === customerId);
  }
}

/**
 * Resolves the connection a request acts for, or a 401 SCIM error (with a body: Okta's test checks it).
 * With a `cache`, a current token seen within its time costs no store round trip.
 */
export async function authenticate(store: Store, header: string | undefined, now = Date.now(), cache?: TokenCache): Promise<StoredConnection | ScimError> {
  const token = bearerToken(header);
  if (!token) return unauthorized('missing bearer token: send "Authorization: Bearer <token>"');
  const hash = hashToken(token);
  const cached = cache?.get(hash);
  if (cached && sameHash(cached.tokenHash, hash)) return cached;
  const ticket = cache?.ticket() ?? 0;
  const connection = await store.findConnectionByTokenHash(hash);
  if (!connection) return unauthorized('invalid bearer token');
  if (sameHash(connection.tokenHash, hash)) {
    cache?.set(hash, connection, ticket);
    return connection;
  }
  const previousValid =
    connection.previousTokenHash !== null &&
    connection.previousTokenExpiresAt !== null &&
    connection.previousTokenExpiresAt > now &&
    sameHash(connection.previousTokenHash, hash);
  return previousValid ? connection : unauthorized('invalid bearer token');
}
