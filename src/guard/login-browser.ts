/**
 * How a login route reaches the browser without the app's session: its Cookie header, and a way to add a
 * Set-Cookie. Both protocols keep a login in progress in a cookie of its own (SAML's binding cookie,
 * src/guard/saml.ts; OIDC's login state, src/guard/oidc-login-cookie.ts), so a login start, which anyone may
 * make, stores nothing on the server.
 */
export interface LoginBrowser {
  cookieHeader: string | undefined;
  setCookie(header: string): void;
}

/**
 * The browser behind a passport request, when the framework lets a Set-Cookie reach its response: Express
 * (`req.res`, Node's ServerResponse) and koa-passport (`req.ctx`, the Koa context). Undefined otherwise
 * (Fastify's request has neither).
 */
export function browserOfRequest(req: object): LoginBrowser | undefined {
  const { headers, ctx, res } = req as {
    headers?: { cookie?: unknown };
    ctx?: { append?: (name: string, value: string) => void };
    res?: { appendHeader?: (name: string, value: string) => void };
  };
  const cookieHeader = typeof headers?.cookie === 'string' ? headers.cookie : undefined;
  if (typeof ctx?.append === 'function') return { cookieHeader, setCookie: (line) => ctx.append!('Set-Cookie', line) };
  if (typeof res?.appendHeader === 'function') return { cookieHeader, setCookie: (line) => void res.appendHeader!('Set-Cookie', line) };
  return undefined;
}

/** One cookie's value from a Cookie header (bounded: at most 100 cookies are looked at), or null. */
export function cookieValue(header: string | undefined, name: string): string | null {
  if (typeof header !== 'string' || header.length > 16_384) return null;
  const parts = header.split(';', 100);
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/**
 * The Path attribute of a cookie only `url` (a callback or ACS) should receive: its path, or, when the path
 * holds a `;` (which would end the attribute), cookieFolderOf. Pure.
 */
export function cookiePathOf(url: URL): string {
  return url.pathname.includes(';') ? cookieFolderOf(url) : url.pathname;
}

/** The path of `url` up to its last `/` (before any `;`): a cookie Path for the routes beside `url`. Pure. */
export function cookieFolderOf(url: URL): string {
  const path = url.pathname;
  const semicolon = path.indexOf(';');
  return path.slice(0, path.lastIndexOf('/', semicolon === -1 ? path.length : semicolon) + 1);
}
