/**
 * A one-time message carried across a redirect in a short-lived, encrypted, HttpOnly cookie: how the
 * dashboard shows a freshly rotated SCIM token once (POST → 303 → GET), so reloading the page never
 * re-submits the rotation. AES-256-GCM, keyed from the dashboard's `csrfSecret` (random per process without
 * one, like the CSRF key: set it when several instances serve the dashboard).
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';
import { readCookie } from './csrf.js';

export const FLASH_COOKIE = 'scim_sso_dashboard_flash';
const MAX_AGE_SECONDS = 120;

export interface Flash {
  /** Sets the message for the next GET of `path`. */
  put(req: Request, res: Response, path: string, message: string): void;
  /** Reads and clears the message, or null (absent, expired, tampered, or sealed with another key). */
  take(req: Request, res: Response, path: string): string | null;
}

export function createFlash(secret?: string): Flash {
  const key = secret ? createHash('sha256').update(`scim-sso-dashboard-flash.v1\0${secret}`).digest() : randomBytes(32);
  const cookie = (req: Request, path: string, value: string, maxAge: number) =>
    [`${FLASH_COOKIE}=${value}`, `Path=${path}`, `Max-Age=${maxAge}`, 'HttpOnly', 'SameSite=Strict', ...(req.secure ? ['Secure'] : [])].join('; ');

  return {
    put(req, res, path, message) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const sealed = Buffer.concat([cipher.update(message, 'utf8'), cipher.final()]);
      const value = Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url');
      res.append('Set-Cookie', cookie(req, path, value, MAX_AGE_SECONDS));
    },
    take(req, res, path) {
      const value = readCookie(req, FLASH_COOKIE);
      if (!value) return null;
      res.append('Set-Cookie', cookie(req, path, '', 0));
      try {
        const raw = Buffer.from(value, 'base64url');
        const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
        decipher.setAuthTag(raw.subarray(12, 28));
        return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
      } catch {
        return null;
      }
    },
  };
}
