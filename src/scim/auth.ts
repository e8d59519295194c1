/**
 * Bearer-token authentication of SCIM requests. Tokens are 256 random bits, shown once, and stored only
 * as their SHA-256 hash; the store finds a connection by that hash, and the hash is then compared again in
 * constant time, so no comparison on the request path depends on secret bytes.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ScimError } from '../errors.js';
import type { Store, StoredConnection } from '../store/store.js';

/** A new token: `scim_` followed by 32 random bytes in base64url (256 bits of randomness). */
export function generateToken(): string {
  return `scim_${randomBytes(32).toString('base64url')}`;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
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

/** Resolves the connection a request acts for, or a 401 SCIM error (with a body: Okta's test checks it). */
export async function authenticate(store: Store, header: string | undefined, now = Date.now()): Promise<StoredConnection | ScimError> {
  const token = bearerToken(header);
  if (!token) return unauthorized('missing bearer token: send "Authorization: Bearer <token>"');
  const hash = hashToken(token);
  const connection = await store.findConnectionByTokenHash(hash);
  if (!connection) return unauthorized('invalid bearer token');
  if (sameHash(connection.tokenHash, hash)) return connection;
  const previousValid =
    connection.previousTokenHash !== null &&
    connection.previousTokenExpiresAt !== null &&
    connection.previousTokenExpiresAt > now &&
    sameHash(connection.previousTokenHash, hash);
  return previousValid ? connection : unauthorized('invalid bearer token');
}
