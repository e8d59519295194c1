/**
 * Hex digests of short texts on request paths: a SCIM request's bearer token (src/scim/auth.ts), a deleted
 * user's tombstones (src/store/tombstones.ts). Node's one-shot `crypto.hash` (Node 20.12+) costs about a quarter
 * of createHash's on such inputs; earlier 20.x releases fall back to createHash.
 */
import * as crypto from 'node:crypto';
import { createHash } from 'node:crypto';

const oneShotHash = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;

/** The digest of `text` (UTF-8), hex. */
export function hexDigest(algorithm: 'sha1' | 'sha256', text: string): string {
  return oneShotHash ? oneShotHash(algorithm, text, 'hex') : createHash(algorithm).update(text, 'utf8').digest('hex');
}
