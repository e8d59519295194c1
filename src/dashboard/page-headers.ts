/**
 * The response headers of every server-rendered page (the admin dashboard and the setup portal): never
 * cached, never framed, no MIME sniffing, and a CSP that runs only the page's own nonce-tagged style and
 * script and posts forms only to the page's origin.
 */
import { randomBytes } from 'node:crypto';

/** A fresh CSP nonce and the headers that carry it; `referrerPolicy` is the page's own. */
export function pageHeaders(referrerPolicy: 'same-origin' | 'no-referrer'): { nonce: string; headers: Record<string, string> } {
  const nonce = randomBytes(16).toString('base64');
  return {
    nonce,
    headers: {
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'DENY',
      'Referrer-Policy': referrerPolicy,
      'Content-Security-Policy': `default-src 'none'; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
    },
  };
}
