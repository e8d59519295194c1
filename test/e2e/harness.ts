/**
 * End-to-end login harness: a real OIDC provider (the demo IdP, one per tenant, started on demand), app
 * instances sharing ONE scim-sso store (each its own listening server, scimSso, passport and sessions), a
 * SCIM client speaking HTTP to an instance, and headless logins through the Browser.
 *
 * The framework-specific wiring lives in one function per adapter (`buildExpressApp`, `buildKoaApp`), with
 * the same contract (see `AppBuilder`); every test case runs once per adapter in ADAPTERS
 * (test/support/adapters.ts).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import session from 'express-session';
import Koa from 'koa';
import koaPassport from 'koa-passport';
import koaSession from 'koa-session';
import { Passport } from 'passport';
import type { AuditEvent, ScimSsoOptions } from '../../src/index.js';
import { scimSso, type ScimSso } from '../support/sso.js';
import type { IdpType, Store } from '../../src/store/store.js';
import type { MatchingStrategy } from '../../src/match/strategies.js';
import { oidcLoginCookieName } from '../../src/guard/oidc-login-cookie.js';
import { strategyName } from '../../src/guard/passport.js';
import { startDemoIdp, type DemoAccount, type DemoClient, type DemoIdp } from '../../example-app/demo-idp.js';
import type { Browser } from '../support/browser.js';
import { memorySessionStore } from '../../example-app/session-store.js';
import { makeStore, type StoreKind } from '../support/app.js';
import { ADAPTERS, type AdapterKind } from '../support/adapters.js';

export { ADAPTERS, type AdapterKind };

/** Each adapter's passport: passport 0.7's `Passport` for Express, koa-passport's `KoaPassport` (nesting passport 0.6) for Koa. */
export interface PassportOf {
  express: InstanceType<typeof Passport>;
  koa: InstanceType<typeof koaPassport.KoaPassport>;
}

export const SCIM_USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const SCIM_PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/** Where every app instance mounts the login routes and the protected page. */
export const PATHS = {
  ssoBase: '/sso',
  login: (customerId: string) => `/sso/${encodeURIComponent(customerId)}/login`,
  callback: (customerId: string) => `/sso/${encodeURIComponent(customerId)}/callback`,
  me: '/me',
  scim: '/scim/v2',
} as const;

/** What an adapter's app builder receives. */
export interface AppContext<A extends AdapterKind = AdapterKind> {
  sso: ScimSso;
  /** The instance's own passport (a new `Passport()` / `KoaPassport()`, never the global one). */
  passport: PassportOf[A];
  /** Called with every request and its response as it starts (the harness's request observers). */
  observe(req: IncomingMessage, res: ServerResponse): void;
  /** Records unexpected errors that reached the app's last error handler (they answer 500). */
  unexpected(error: unknown): void;
  /**
   * State shared by every instance of one harness, for builders that need it (e.g. one session store when
   * `sharedSessions` is set, as behind a load balancer without sticky sessions).
   */
  shared: Map<string, unknown>;
  sharedSessions: boolean;
}

/**
 * Test-specific routes, mounted after the SCIM and login routes and before `/me` and the error handlers.
 * Keyed by adapter: a route a test needs must be written once per adapter.
 */
export interface Extensions {
  express?: (app: express.Express, ctx: AppContext<'express'>) => void;
  koa?: (app: Koa, ctx: AppContext<'koa'>) => void;
}

/** Builds one app instance: returns a request listener (Node http), taken after every middleware is mounted. */
type AppBuilder<A extends AdapterKind> = (ctx: AppContext<A>, extensions: Extensions) => (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Express: express-session (memory, per instance) + the instance's passport + `sso.authRoutes` at /sso +
 * `/me` behind `sso.requireActiveUser()` answering the session user as JSON. No failureRedirect: refusals
 * and login errors answer JSON.
 */
export function buildExpressApp(ctx: AppContext<'express'>, extensions: Extensions): express.Express {
  const { sso, passport } = ctx;
  const app = express();
  app.use((req, res, next) => {
    ctx.observe(req, res);
    next();
  });
  app.use(sso); // SCIM routes under /scim/v2
  app.use(session({ ...expressSessionStore(ctx), resave: false, saveUninitialized: false, name: SESSION_COOKIE }));
  app.use(passport.initialize());
  app.use(passport.session());
  app.use(sso.authRoutes({ passport, successRedirect: PATHS.me })); // under /sso (the default prefix)
  extensions.express?.(app, ctx);
  app.get(PATHS.me, sso.requireActiveUser(), (req, res) => void res.json(req.user));
  app.use(sso.errorHandler());
  app.use((error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    ctx.unexpected(error);
    if (!res.headersSent) res.status(500).json({ error: 'internal' });
  });
  return app;
}

/** The session cookie's name on every adapter. */
export const SESSION_COOKIE = 'app.sid';
/** The name of the cookie that holds a customer's OIDC logins under way (src/guard/oidc-login-cookie.ts). */
export const loginCookieOf = (customerId: string): string => oidcLoginCookieName(strategyName(customerId));

/** Per-instance memory sessions, or one store and secret for all instances when sessions are shared. */
function expressSessionStore(ctx: AppContext): { secret: string; store?: session.Store } {
  if (!ctx.sharedSessions) return { secret: `harness-${randomBytes(8).toString('hex')}` };
  let shared = ctx.shared.get('express-session') as { secret: string; store: session.Store } | undefined;
  if (!shared) {
    shared = { secret: `harness-${randomBytes(8).toString('hex')}`, store: new session.MemoryStore() };
    ctx.shared.set('express-session', shared);
  }
  return shared;
}

/**
 * Koa 3: the same app as `buildExpressApp`, in Koa's terms. koa-session on a SERVER-SIDE store (koa-session's
 * default cookie store would put the session user in a readable cookie), the instance's own
 * KoaPassport, `sso.koa.authRoutes` under /sso, `/me` behind `sso.koa.requireActiveUser()` answering
 * `ctx.state.user` as JSON. No failureRedirect: refusals and login errors answer JSON.
 *
 * Koa has no error middleware after the routes: errors are thrown back up the stack, so the catchers wrap
 * what they guard — the unexpected-error catcher (500) outermost, `sso.koa.errorHandler()` around the login
 * routes, the extensions and `/me`. The caller takes `app.callback()` only after this returns (a callback
 * taken before `app.use` serves an empty stack).
 */
export function buildKoaApp(ctx: AppContext<'koa'>, extensions: Extensions): Koa {
  const { sso, passport } = ctx;
  const app = new Koa();
  const { secret, store } = koaSessionStore(ctx);
  app.keys = [secret];
  app.use(async (kctx, next) => {
    ctx.observe(kctx.req, kctx.res);
    await next();
  });
  app.use(async (kctx, next) => {
    try {
      await next();
    } catch (error) {
      ctx.unexpected(error);
      if (kctx.headerSent) return;
      kctx.status = 500;
      kctx.body = { error: 'internal' };
    }
  });
  // Anything Koa itself reports (errors past the catcher, e.g. while writing the response) is unexpected too.
  app.on('error', (error: unknown) => ctx.unexpected(error));
  app.use(sso.koa); // SCIM routes under /scim/v2
  app.use(koaSession({ store, key: SESSION_COOKIE, httpOnly: true, sameSite: 'lax' }, app));
  app.use(passport.initialize());
  app.use(passport.session());
  app.use(sso.koa.errorHandler());
  app.use(sso.koa.authRoutes({ passport, successRedirect: PATHS.me })); // under /sso (the default prefix)
  extensions.koa?.(app, ctx);
  const requireActive = sso.koa.requireActiveUser();
  app.use(async (kctx, next) => {
    if (kctx.method !== 'GET' || kctx.path !== PATHS.me) return next();
    await requireActive(kctx, async () => {
      kctx.body = kctx.state.user;
    });
  });
  return app;
}

/** A koa-session external store (server-side), as example-app/session-store.ts builds it. */
type KoaSessionStore = ReturnType<typeof memorySessionStore>;

/** The sessions a koa-session store holds now (sessionCount). */
function counted(store: KoaSessionStore): { store: KoaSessionStore; count: () => number } {
  const keys = new Set<string>();
  return {
    store: {
      get: (key) => store.get(key),
      set: (key, value, maxAge) => (keys.add(key), store.set(key, value, maxAge)),
      destroy: (key) => (keys.delete(key), store.destroy(key)),
    },
    count: () => keys.size,
  };
}

/** Per-instance server-side sessions, or one store and signing key for all instances when sessions are shared. */
function koaSessionStore(ctx: AppContext): { secret: string; store: KoaSessionStore } {
  const own = () => ({ secret: `harness-${randomBytes(8).toString('hex')}`, ...counted(memorySessionStore()) });
  if (!ctx.sharedSessions) return own();
  let shared = ctx.shared.get('koa-session') as ReturnType<typeof own> | undefined;
  if (!shared) {
    shared = own();
    ctx.shared.set('koa-session', shared);
  }
  return shared;
}

/** How many sessions the shared session store holds (sharedSessions only). */
async function sharedSessionCount(shared: Map<string, unknown>): Promise<number> {
  const koa = shared.get('koa-session') as { count: () => number } | undefined;
  if (koa) return koa.count();
  const express = shared.get('express-session') as { store: session.MemoryStore } | undefined;
  if (!express) throw new Error('harness: sessionCount needs sharedSessions and a started instance');
  return new Promise((resolve, reject) => express.store.length((error, length) => (error ? reject(error) : resolve(length ?? 0))));
}

const BUILDERS: { [A in AdapterKind]: AppBuilder<A> } = {
  express: buildExpressApp,
  // The request listener is taken after buildKoaApp mounted everything (Koa pitfall, docs/oidc-and-passport.md §Koa).
  koa: (ctx, extensions) => buildKoaApp(ctx, extensions).callback(),
};

/** The instance's own passport, with identity (de)serialization: the session keeps the whole session user. */
function newPassport<A extends AdapterKind>(adapter: A): PassportOf[A] {
  if (adapter === 'koa') {
    const passport = new koaPassport.KoaPassport();
    passport.serializeUser((user, done) => done(null, user));
    passport.deserializeUser((user: Express.User, done) => done(null, user));
    return passport as PassportOf[A];
  }
  const passport = new Passport();
  passport.serializeUser((user, done) => done(null, user));
  passport.deserializeUser((user: Express.User, done) => done(null, user));
  return passport as PassportOf[A];
}

export interface HarnessOptions {
  store: StoreKind;
  adapter: AdapterKind;
  /** Names the Redis key prefix and the customers (unique per file). */
  hint: string;
  /** Wraps the shared store before any instance sees it (fault injection at the edge). */
  wrapStore?: (store: Store) => Store;
  extensions?: Extensions;
  /** One session store for all instances (a load balancer without sticky sessions). Default false. */
  sharedSessions?: boolean;
  /** Receives every instance's audit events. */
  onEvent?: (event: AuditEvent) => void;
  /** More scimSso options for every instance (e.g. requireVerifiedEmail). */
  ssoOptions?: Omit<ScimSsoOptions, 'store' | 'onEvent' | 'onError'>;
}

export interface TenantOptions {
  /** Where the IdP puts email/profile claims (see DemoTenant.claimsIn). Default 'id_token'. */
  claimsIn?: 'id_token' | 'userinfo';
}

/** The demo IdP(s): one oidc-provider host per tenant, started the first time a tenant is named. */
export interface HarnessIdp {
  tenant(id: string, options?: TenantOptions): Promise<DemoIdp>;
  issuer(tenantId: string): string;
  upsertAccount(tenantId: string, account: DemoAccount): void;
  addClient(tenantId: string, client: DemoClient): Promise<void>;
  /** Errors the IdP reported as unexpected (its 500s). */
  readonly errors: unknown[];
}

export interface AppInstance {
  index: number;
  origin: string;
  sso: ScimSso;
  passport: PassportOf[AdapterKind];
}

export interface CustomerOptions {
  customerId: string;
  tenant: string;
  tenantOptions?: TenantOptions;
  idpType: IdpType;
  matchingStrategy?: MatchingStrategy;
  subjectClaim?: string;
  claimsSource?: 'id_token' | 'userinfo' | 'auto';
  /** The instance whose callback is the redirect URI (logins for this customer go through it). Default 0. */
  instance?: number;
  /** Skip the SCIM connection (a customer with SSO only). Default false. */
  noScim?: boolean;
}

export interface ScimClient {
  createUser(body: Record<string, unknown>): Promise<string>;
  /** PATCH (RFC 7644 §3.5.2); the server may answer 204 without a body, so this resolves to nothing. */
  patch(id: string, operations: Array<Record<string, unknown>>): Promise<void>;
  /** GET /Users/<id>: the resource, or null on 404. */
  get(id: string): Promise<Record<string, unknown> | null>;
  remove(id: string): Promise<void>;
  /** The same client, talking to another instance (same token, same store). */
  via(instance: number): ScimClient;
}

export interface Customer {
  customerId: string;
  tenant: string;
  connectionId: string | null;
  token: string | null;
  clientId: string;
  clientSecret: string;
  issuer: string;
  redirectUri: string;
  instance: number;
  scim: ScimClient;
}

export interface HttpResult {
  status: number;
  body: any;
  url: string;
  headers: Headers;
}

export interface LoginHarness {
  kind: { store: StoreKind; adapter: AdapterKind };
  idp: HarnessIdp;
  /** The shared store (as the instances see it, i.e. wrapped). */
  store: Store;
  /** App instance n (0-based), started on first use. */
  instance(n?: number): Promise<AppInstance>;
  customer(options: CustomerOptions): Promise<Customer>;
  /** A full login: `/sso/<customer>/login?login_hint=<sub>` with every redirect followed; body parsed as JSON. */
  login(browser: Browser, customerId: string, sub: string, instance?: number): Promise<HttpResult>;
  /**
   * Follows the login up to (not including) the app's callback and returns the callback URL; started at
   * `startPath` (default `/sso/<customer>/login`).
   */
  startLogin(browser: Browser, customerId: string, sub?: string, instance?: number, startPath?: string): Promise<string>;
  /** `GET /me` on an instance. */
  me(browser: Browser, instance?: number): Promise<HttpResult>;
  /** A SCIM client with `token`, talking to instance `n` (for customers made without `customer()`). */
  scim(token: string, instance?: number): ScimClient;
  /** How many sessions the instances' shared session store holds (with `sharedSessions`). */
  sessionCount(): Promise<number>;
  /** Adds a request observer on every instance; returns a function that removes it. */
  observe(observer: (req: IncomingMessage, res: ServerResponse, instance: number) => void): () => void;
  /** Responses with status 500 (or any 5xx other than 503), and errors scim-sso reported as unexpected. */
  readonly serverErrors: string[];
  close(): Promise<void>;
}

async function parseBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer(handler).listen(0, '127.0.0.1', () => resolve(server));
    server.once('error', reject);
  });
}

export async function startLoginHarness(options: HarnessOptions): Promise<LoginHarness> {
  const made = await makeStore(options.store, options.hint);
  const store = options.wrapStore ? options.wrapStore(made.store) : made.store;
  const serverErrors: string[] = [];
  const idpErrors: unknown[] = [];
  const observers = new Set<(req: IncomingMessage, res: ServerResponse, instance: number) => void>();
  const idps = new Map<string, Promise<DemoIdp>>();
  const started = new Map<string, DemoIdp>();
  const instances = new Map<number, Promise<{ app: AppInstance; server: Server }>>();
  const customers = new Map<string, Customer>();
  const shared = new Map<string, unknown>();

  const idp: HarnessIdp = {
    errors: idpErrors,
    tenant(id, tenantOptions = {}) {
      let pending = idps.get(id);
      if (!pending) {
        pending = startDemoIdp({
          onError: (error) => idpErrors.push(error),
          tenants: [{ id, clients: [], accounts: [], ...(tenantOptions.claimsIn ? { claimsIn: tenantOptions.claimsIn } : {}) }],
        }).then((started_) => {
          started.set(id, started_);
          return started_;
        });
        idps.set(id, pending);
      }
      return pending;
    },
    issuer: (tenantId) => need(tenantId).issuer(tenantId),
    upsertAccount: (tenantId, account) => need(tenantId).upsertAccount(tenantId, account),
    addClient: (tenantId, client) => need(tenantId).addClient(tenantId, client),
  };
  function need(tenantId: string): DemoIdp {
    const found = started.get(tenantId);
    if (!found) throw new Error(`harness: tenant ${tenantId} not started (await h.idp.tenant(id) or h.customer first)`);
    return found;
  }

  function instance(n = 0): Promise<AppInstance> {
    let pending = instances.get(n);
    if (!pending) {
      pending = (async () => {
        const sso = scimSso({
          store,
          allowHttpIssuers: true,
          ...options.ssoOptions,
          ...(options.onEvent ? { onEvent: options.onEvent } : {}),
          onError: (error) => serverErrors.push(`instance ${n} onError: ${String(error)}`),
        });
        const passport = newPassport(options.adapter);
        const build = BUILDERS[options.adapter] as AppBuilder<AdapterKind>;
        const handler = build(
          {
            sso,
            passport,
            observe(req, res) {
              res.once('finish', () => {
                if (res.statusCode >= 500 && res.statusCode !== 503) serverErrors.push(`instance ${n}: ${req.method} ${req.url} → ${res.statusCode}`);
              });
              for (const observer of observers) observer(req, res, n);
            },
            shared,
            sharedSessions: options.sharedSessions ?? false,
            unexpected: (error) => serverErrors.push(`instance ${n} unexpected: ${error instanceof Error ? error.stack : String(error)}`),
          },
          options.extensions ?? {},
        );
        const server = await listen(handler);
        const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        return { app: { index: n, origin, sso, passport }, server };
      })();
      instances.set(n, pending);
    }
    return pending.then((i) => i.app);
  }

  function scimClient(token: string, n: number): ScimClient {
    const call = async (method: string, path: string, body?: unknown) => {
      const { origin } = await instance(n);
      const response = await fetch(`${origin}${PATHS.scim}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json', accept: 'application/scim+json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: response.status, body: (await parseBody(response)) as Record<string, unknown> };
    };
    return {
      async createUser(body) {
        const { status, body: created } = await call('POST', '/Users', { schemas: [SCIM_USER_SCHEMA], ...body });
        if (status !== 201) throw new Error(`SCIM create answered ${status}: ${JSON.stringify(created)}`);
        return String(created.id);
      },
      async patch(id, operations) {
        const { status, body } = await call('PATCH', `/Users/${id}`, { schemas: [SCIM_PATCH_SCHEMA], Operations: operations });
        if (status !== 200 && status !== 204) throw new Error(`SCIM PATCH answered ${status}: ${JSON.stringify(body)}`);
      },
      async get(id) {
        const { status, body } = await call('GET', `/Users/${id}`);
        if (status === 404) return null;
        if (status !== 200) throw new Error(`SCIM GET answered ${status}: ${JSON.stringify(body)}`);
        return body;
      },
      async remove(id) {
        const { status, body } = await call('DELETE', `/Users/${id}`);
        if (status !== 204) throw new Error(`SCIM DELETE answered ${status}: ${JSON.stringify(body)}`);
      },
      via: (other) => scimClient(token, other),
    };
  }

  async function customer(c: CustomerOptions): Promise<Customer> {
    const n = c.instance ?? 0;
    const [{ sso, origin }] = await Promise.all([instance(n), idp.tenant(c.tenant, c.tenantOptions)]);
    const connection = c.noScim ? null : await sso.createScimConnection({ customerId: c.customerId });
    const clientId = `${c.customerId}-client`;
    const clientSecret = `secret-${randomBytes(12).toString('hex')}`;
    const redirectUri = `${origin}${PATHS.callback(c.customerId)}`;
    await idp.addClient(c.tenant, { client_id: clientId, client_secret: clientSecret, redirect_uris: [redirectUri] });
    await sso.createOidcClient({
      customerId: c.customerId,
      idpType: c.idpType,
      issuer: idp.issuer(c.tenant),
      clientId,
      clientSecret,
      redirectUri,
      ...(c.matchingStrategy ? { matchingStrategy: c.matchingStrategy } : {}),
      ...(c.subjectClaim ? { subjectClaim: c.subjectClaim } : {}),
      ...(c.claimsSource ? { claimsSource: c.claimsSource } : {}),
    });
    const noScim: ScimClient = {
      createUser: () => Promise.reject(new Error('customer has no SCIM connection')),
      patch: () => Promise.reject(new Error('customer has no SCIM connection')),
      get: () => Promise.reject(new Error('customer has no SCIM connection')),
      remove: () => Promise.reject(new Error('customer has no SCIM connection')),
      via: () => noScim,
    };
    const made: Customer = {
      customerId: c.customerId,
      tenant: c.tenant,
      connectionId: connection?.connectionId ?? null,
      token: connection?.token ?? null,
      clientId,
      clientSecret,
      issuer: idp.issuer(c.tenant),
      redirectUri,
      instance: n,
      scim: connection ? scimClient(connection.token, n) : noScim,
    };
    customers.set(c.customerId, made);
    return made;
  }

  const instanceFor = (customerId: string, n: number | undefined) => n ?? customers.get(customerId)?.instance ?? 0;

  async function login(browser: Browser, customerId: string, sub: string, n?: number): Promise<HttpResult> {
    const { origin } = await instance(instanceFor(customerId, n));
    const result = await browser.navigate(`${origin}${PATHS.login(customerId)}?${new URLSearchParams({ login_hint: sub })}`);
    return { status: result.response.status, body: await parseBody(result.response), url: result.url, headers: result.response.headers };
  }

  async function startLogin(browser: Browser, customerId: string, sub?: string, n?: number, startPath = PATHS.login(customerId)): Promise<string> {
    const { origin } = await instance(instanceFor(customerId, n));
    const callback = `${origin}${PATHS.callback(customerId)}`;
    let url = `${origin}${startPath}${sub ? `?${new URLSearchParams({ login_hint: sub })}` : ''}`;
    for (let hops = 0; hops < 20; hops++) {
      const response = await browser.fetch(url);
      const location = response.headers.get('location');
      await response.body?.cancel();
      if (!location || response.status < 300 || response.status >= 400) {
        throw new Error(`harness.startLogin: ${url} answered ${response.status} before reaching the callback`);
      }
      url = new URL(location, url).href;
      if (url.startsWith(`${callback}?`)) return url;
    }
    throw new Error('harness.startLogin: too many redirects');
  }

  async function me(browser: Browser, n = 0): Promise<HttpResult> {
    const { origin } = await instance(n);
    const url = `${origin}${PATHS.me}`;
    const response = await browser.fetch(url, { headers: { accept: 'application/json' } });
    return { status: response.status, body: await parseBody(response), url, headers: response.headers };
  }

  return {
    kind: { store: options.store, adapter: options.adapter },
    idp,
    store,
    instance,
    customer,
    login,
    startLogin,
    me,
    scim: (token, n = 0) => scimClient(token, n),
    sessionCount: () => sharedSessionCount(shared),
    observe(observer) {
      observers.add(observer);
      return () => void observers.delete(observer);
    },
    serverErrors,
    async close() {
      const all = await Promise.allSettled([...instances.values()]);
      await Promise.all(
        all.flatMap((r) =>
          r.status === 'fulfilled'
            ? [
                new Promise<void>((resolve) => {
                  r.value.server.close(() => resolve());
                  r.value.server.closeAllConnections();
                }),
              ]
            : [],
        ),
      );
      const tenants = await Promise.allSettled([...idps.values()]);
      await Promise.all(tenants.flatMap((r) => (r.status === 'fulfilled' ? [r.value.close()] : [])));
      await made.cleanup();
    },
  };
}

/** A unique-enough suffix for ids inside one harness. */
export const uid = () => randomBytes(4).toString('hex');

/** The guard outcomes the outcome tables provision for. */
export type Outcome = 'admitted' | 'deactivated' | 'deleted' | 'not_provisioned' | 'ambiguous';

/**
 * Provisions over SCIM what `outcome` needs: nothing, the first user deactivated, the first user created
 * then deleted, or every user active (two matching users make `ambiguous`). Returns the id of the (last)
 * SCIM user created, or null.
 */
export async function provisionFor(scim: ScimClient, users: Array<Record<string, unknown>>, outcome: Outcome): Promise<string | null> {
  let id: string | null = null;
  switch (outcome) {
    case 'not_provisioned':
      return null;
    case 'deactivated':
      return scim.createUser({ ...users[0], active: false });
    case 'deleted':
      id = await scim.createUser({ ...users[0], active: true });
      await scim.remove(id);
      return id;
    default:
      for (const user of users) id = await scim.createUser({ ...user, active: true });
      return id;
  }
}
