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

/**
 * Whether the browser reached the page over https, so its cookies get `Secure`: the framework says so
 * (`req.secure`, `ctx.secure`: only when the app trusts its proxy), or a TLS-terminating proxy says so in
 * `X-Forwarded-Proto`. Believing that header without `trust proxy` is safe here: a lying one can only
 * make a cookie Secure, which a browser then keeps off plain http.
 */
export function reachedOverHttps(request: { secure: boolean; headers: Record<string, string | string[] | undefined> }): boolean {
  if (request.secure) return true;
  const forwarded = request.headers['x-forwarded-proto'];
  const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',', 1)[0]?.trim().toLowerCase();
  return first === 'https';
}
