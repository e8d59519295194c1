/**
 * A headless "browser" for login flows: `fetch` with `redirect: 'manual'`, a cookie jar per host:port
 * (so the app's and the IdP's cookies stay apart even though both live on 127.0.0.1), redirects followed
 * by hand so every hop is visible, and HTML form submission (regex-parsed: enough for the demo IdP's and
 * oidc-provider's own simple pages, not a general HTML parser).
 */

/** One request of a navigation. */
export interface Hop {
  url: string;
  status: number;
  location: string | null;
}

/** A `<form>` found in a page: absolute action, upper-case method, its named input values, its text. */
export interface HtmlForm {
  action: string;
  method: string;
  fields: Record<string, string>;
  text: string;
}

interface Cookie {
  name: string;
  value: string;
  path: string;
  /** Epoch ms; undefined for a session cookie. */
  expires: number | undefined;
  secure: boolean;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_HOPS = 20;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
// oidc-provider's form_post and logout-confirm pages submit themselves from a script on load.
const AUTO_SUBMIT = /forms\[0\]\.submit\(\)/;

export class Browser {
  /** host:port → cookies */
  readonly #jar = new Map<string, Cookie[]>();

  /** One request, cookies in and out, no redirect following. */
  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const target = new URL(url);
    const headers = new Headers(init.headers);
    const cookie = this.#cookieHeader(target);
    if (cookie) headers.set('cookie', headers.has('cookie') ? `${headers.get('cookie')}; ${cookie}` : cookie);
    const response = await fetch(target, { ...init, headers, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) this.#store(target, line);
    return response;
  }

  /**
   * Requests `url` (GET unless `init` says otherwise) and follows redirects and self-submitting forms,
   * at most 20 hops. 303, and 301/302 after a POST, continue as GET (as browsers do); 307/308 repeat the
   * method and body. Returns the final response (body unread), every hop, and the final URL.
   */
  async navigate(url: string, init: RequestInit = {}): Promise<{ response: Response; hops: Hop[]; url: string }> {
    const hops: Hop[] = [];
    let current = url;
    let request = init;
    for (;;) {
      if (hops.length >= MAX_HOPS) throw new Error(`Browser: more than ${MAX_HOPS} hops: ${hops.map((h) => h.url).join(' → ')}`);
      const response = await this.fetch(current, request);
      const location = response.headers.get('location');
      hops.push({ url: current, status: response.status, location });
      if (REDIRECTS.has(response.status) && location) {
        await response.body?.cancel(); // free the keep-alive socket
        const method = (request.method ?? 'GET').toUpperCase();
        const keep = response.status === 307 || response.status === 308 || (method === 'GET' && response.status !== 303);
        request = keep ? request : { headers: withoutBodyHeaders(request.headers) };
        current = new URL(location, current).href;
        continue;
      }
      if (response.status === 200 && (response.headers.get('content-type') ?? '').includes('html')) {
        const html = await response.clone().text();
        const form = AUTO_SUBMIT.test(html) ? parseForms(html, current)[0] : undefined;
        if (form) {
          await response.body?.cancel();
          ({ url: current, init: request } = formRequest(form));
          continue;
        }
      }
      return { response, hops, url: current };
    }
  }

  /** Submits a form (see {@link parseForms}) with `extra` fields added, following redirects. */
  submit(form: HtmlForm, extra: Record<string, string> = {}) {
    const { url, init } = formRequest(form, extra);
    return this.navigate(url, init);
  }

  /** The cookies this browser would send to `origin` (any path; the most specific path wins). */
  cookies(origin: string): Record<string, string> {
    const out: Record<string, string> = {};
    const live = this.#live(new URL(origin).host).sort((a, b) => a.path.length - b.path.length);
    for (const c of live) out[c.name] = c.value;
    return out;
  }

  /** Forgets the cookies of `origin`, or all cookies. */
  clear(origin?: string): void {
    if (origin === undefined) this.#jar.clear();
    else this.#jar.delete(new URL(origin).host);
  }

  #live(host: string): Cookie[] {
    const now = Date.now();
    const cookies = (this.#jar.get(host) ?? []).filter((c) => c.expires === undefined || c.expires > now);
    this.#jar.set(host, cookies);
    return [...cookies];
  }

  #cookieHeader(url: URL): string {
    // Secure cookies go over https, and over http to loopback (a secure context in browsers too).
    const secureOk = url.protocol === 'https:' || LOOPBACK.has(url.hostname);
    return this.#live(url.host)
      .filter((c) => pathMatches(url.pathname, c.path) && (!c.secure || secureOk))
      .sort((a, b) => b.path.length - a.path.length) // RFC 6265 §5.4: longer paths first
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  /** Parses one Set-Cookie line (RFC 6265 §5.2, without Domain: cookies stay host-only). */
  #store(url: URL, line: string): void {
    const [pair = '', ...attributes] = line.split(';');
    const eq = pair.indexOf('=');
    if (eq <= 0) return;
    const cookie: Cookie = { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), path: defaultPath(url), expires: undefined, secure: false };
    let maxAge: number | undefined;
    for (const attribute of attributes) {
      const [rawKey = '', ...rest] = attribute.split('=');
      const key = rawKey.trim().toLowerCase();
      const value = rest.join('=').trim();
      if (key === 'path' && value.startsWith('/')) cookie.path = value;
      else if (key === 'max-age' && /^-?\d+$/.test(value)) maxAge = Number(value);
      else if (key === 'expires' && !Number.isNaN(Date.parse(value))) cookie.expires = Date.parse(value);
      else if (key === 'secure') cookie.secure = true;
    }
    if (maxAge !== undefined) cookie.expires = maxAge <= 0 ? 0 : Date.now() + maxAge * 1000; // Max-Age beats Expires
    const others = (this.#jar.get(url.host) ?? []).filter((c) => c.name !== cookie.name || c.path !== cookie.path);
    if (cookie.expires === undefined || cookie.expires > Date.now()) others.push(cookie);
    this.#jar.set(url.host, others);
  }
}

/** RFC 6265 §5.1.4 path-match. */
function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  return requestPath.startsWith(cookiePath) && (cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/');
}

/** RFC 6265 §5.1.4 default-path: the request path up to its last '/'. */
function defaultPath(url: URL): string {
  const i = url.pathname.lastIndexOf('/');
  return i <= 0 ? '/' : url.pathname.slice(0, i);
}

function withoutBodyHeaders(headers: HeadersInit | undefined): Headers {
  const h = new Headers(headers);
  h.delete('content-type');
  h.delete('content-length');
  return h;
}

function formRequest(form: HtmlForm, extra: Record<string, string> = {}): { url: string; init: RequestInit } {
  const body = new URLSearchParams({ ...form.fields, ...extra });
  if (form.method === 'GET') {
    const url = new URL(form.action);
    url.search = body.toString();
    return { url: url.href, init: {} };
  }
  return { url: form.action, init: { method: 'POST', body } };
}

const decode = (s: string) =>
  s.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (_m, e: string) => {
    const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
    if (e[0] !== '#') return named[e.toLowerCase()] ?? '';
    return String.fromCodePoint(e[1]?.toLowerCase() === 'x' ? parseInt(e.slice(2), 16) : Number(e.slice(1)));
  });

function attr(tag: string, name: string): string | undefined {
  const m = new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(tag);
  return m ? decode(m[1] ?? m[2] ?? m[3] ?? '') : undefined;
}

/** The forms of a page, in document order; `pageUrl` resolves relative actions. */
export function parseForms(html: string, pageUrl: string): HtmlForm[] {
  const forms: HtmlForm[] = [];
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const [, open = '', inner = ''] = m;
    const fields: Record<string, string> = {};
    for (const input of inner.matchAll(/<input\b[^>]*>/gi)) {
      const name = attr(input[0], 'name');
      const type = (attr(input[0], 'type') ?? 'text').toLowerCase();
      if (name === undefined || type === 'submit' || type === 'button') continue;
      if ((type === 'checkbox' || type === 'radio') && !/\schecked\b/i.test(input[0])) continue;
      fields[name] = attr(input[0], 'value') ?? '';
    }
    forms.push({
      action: new URL(attr(open, 'action') || pageUrl, pageUrl).href,
      method: (attr(open, 'method') ?? 'GET').toUpperCase(),
      fields,
      text: decode(inner.replace(/<[^>]*>/g, ' '))
        .replace(/\s+/g, ' ')
        .trim(),
    });
  }
  return forms;
}
