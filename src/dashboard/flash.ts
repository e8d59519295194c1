/**
 * The one-time reveal of a freshly rotated SCIM token, carried across the redirect (POST → 303 → GET) in a
 * short-lived, encrypted, HttpOnly cookie, so reloading the page never re-submits the rotation.
 *
 * It must open on whichever instance serves the GET (behind a load balancer that is often another one),
 * so the key is never per process: AES-256-GCM under a key derived from the connection's current token
 * hash as the store holds it (plus the dashboard's `csrfSecret` when the app set one). Every instance reads
 * the same hash from the shared store; the cookie alone opens nothing (the hash is server-side, and the
 * token cannot be derived from it); and once another rotation replaces the token, the old reveal no longer
 * opens, so the page never shows a token that has stopped working. The time it was sealed is sealed with it,
 * and it opens for MAX_AGE_SECONDS only: the cookie's Max-Age binds the browser, not a copy of the cookie.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { readCookie, type CookieRequest, type SetCookie } from './csrf.js';

export const FLASH_COOKIE = 'scim_sso_dashboard_flash';
const MAX_AGE_SECONDS = 120;

export interface Flash {
  /** Sets the message for the next GET of `path`, sealed to `tokenHash` (the connection's current token hash). */
  put(req: CookieRequest, setCookie: SetCookie, path: string, message: string, tokenHash: string): void;
  /** Whether the request carries a reveal cookie at all (so callers read the token hash only then). */
  pending(req: CookieRequest): boolean;
  /**
   * Reads and clears the message, or null (absent, expired, tampered, or sealed to another token hash,
   * i.e. the token was rotated again since).
   */
  take(req: CookieRequest, setCookie: SetCookie, path: string, tokenHash: string | null): string | null;
}

/** `now`: the clock (tests). */
export function createFlash(secret?: string, now: () => number = Date.now): Flash {
  const keyFor = (tokenHash: string) =>
    createHash('sha256')
      .update(`scim-sso-dashboard-flash.v3\0${secret ?? ''}\0${tokenHash}`)
      .digest();
  const cookie = (req: CookieRequest, path: string, value: string, maxAge: number) =>
    [`${FLASH_COOKIE}=${value}`, `Path=${path}`, `Max-Age=${maxAge}`, 'HttpOnly', 'SameSite=Strict', ...(req.secure ? ['Secure'] : [])].join('; ');

  return {
    put(req, setCookie, path, message, tokenHash) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', keyFor(tokenHash), iv);
      const sealed = Buffer.concat([cipher.update(`${now()}\0${message}`, 'utf8'), cipher.final()]);
      const value = Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url');
      setCookie(cookie(req, path, value, MAX_AGE_SECONDS));
    },
    pending: (req) => readCookie(req, FLASH_COOKIE) !== null,
    take(req, setCookie, path, tokenHash) {
      const value = readCookie(req, FLASH_COOKIE);
      if (!value) return null;
      setCookie(cookie(req, path, '', 0));
      if (tokenHash === null) return null;
      try {
        const raw = Buffer.from(value, 'base64url');
        const decipher = createDecipheriv('aes-256-gcm', keyFor(tokenHash), raw.subarray(0, 12));
        decipher.setAuthTag(raw.subarray(12, 28));
        const opened = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
        const split = opened.indexOf('\0');
        const sealedAt = Number(opened.slice(0, split));
        if (split < 0 || !Number.isSafeInteger(sealedAt) || now() - sealedAt > MAX_AGE_SECONDS * 1000) return null;
        return opened.slice(split + 1);
      } catch {
        return null;
      }
    },
  };
}
