/**
 * An embedded demo OpenID provider for the example app and the end-to-end tests: one HTTP host, one
 * oidc-provider `Provider` per tenant mounted at `/t/<id>` (issuer `${origin}/t/<id>`), accounts and
 * clients held in memory and changeable at runtime. `http` issuers only: never a production IdP.
 *
 * Login: an authorization request whose `login_hint` names an account's `sub` is logged in and consented
 * without any page; otherwise a small page lists the tenant's accounts, one button each.
 */
import { generateKeyPair, randomBytes } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import express from 'express';

/** A user of a demo tenant. Every key except `sub` and `label` is a claim. */
export interface DemoAccount {
  /** The accountId and the ID token's `sub`; also what `login_hint` names. */
  sub: string;
  email?: string;
  email_verified?: boolean;
  preferred_username?: string;
  name?: string;
  /** Extra claims, e.g. `oid`/`tid` for Entra-style tenants, `given_name`, `groups`. */
  [claim: string]: unknown;
  /** Shown on the demo login page; not a claim. */
  label?: string;
}

/** A relying party registered at a tenant. Without `client_secret` it is a public client (PKCE only). */
export interface DemoClient {
  client_id: string;
  client_secret?: string;
  redirect_uris: string[];
}

export interface DemoTenant {
  /** Mounted at `/t/<id>`, issuer `${origin}/t/<id>`. Letters, digits, `-` and `_`. */
  id: string;
  clients: DemoClient[];
  accounts: DemoAccount[];
  /**
   * Where email/profile claims go: 'id_token' puts every granted claim in the ID token (Okta-like);
   * 'userinfo' keeps oidc-provider's default `conformIdTokenClaims` (the ID token carries `sub` and the
   * extra claims such as `oid`; email and profile come from userinfo). Default 'id_token'.
   */
  claimsIn?: 'id_token' | 'userinfo';
}

export interface DemoIdp {
  /** `http://<host>:<port>` */
  origin: string;
  issuer(tenantId: string): string;
  /** Adds or replaces an account at runtime (tests create accounts per case). */
  upsertAccount(tenantId: string, account: DemoAccount): void;
  /** Registers (or replaces) a client at runtime; rejects on metadata oidc-provider refuses. */
  addClient(tenantId: string, client: DemoClient): Promise<void>;
  close(): Promise<void>;
}

export interface DemoIdpOptions {
  /** Default 0 (a free port). */
  port?: number;
  /** Listen address and the origin's host (0.0.0.0 and :: advertise loopback). Default 127.0.0.1. */
  host?: string;
  tenants: DemoTenant[];
  /** Unexpected provider errors (a 500). Default: console.error. Expected OAuth errors are not reported. */
  onError?: (error: unknown) => void;
}

// Claims a standard scope carries; any other account key is an extra claim carried by `openid`, so it
// reaches the ID token in both claimsIn modes (that is where Entra puts `oid`).
const SCOPE_CLAIMS = {
  email: ['email', 'email_verified'],
  profile: ['name', 'preferred_username', 'given_name', 'family_name'],
} as const;
const STANDARD = new Set<string>(['sub', 'label', ...SCOPE_CLAIMS.email, ...SCOPE_CLAIMS.profile]);
const TENANT_ID = /^[A-Za-z0-9_-]+$/;

/* oidc-provider ships no type declarations (and @types/oidc-provider is not a dependency): the few
 * members used here are typed locally. */
type Handler = (req: IncomingMessage, res: ServerResponse) => unknown;
interface Interaction {
  prompt: { name: string; details: { missingOIDCScope?: string[]; missingOIDCClaims?: string[] } };
  params: Record<string, unknown>;
  session?: { accountId?: string };
  grantId?: string;
}
interface Grant {
  accountId?: string;
  addOIDCScope(scope: string): void;
  addOIDCClaims(claims: string[]): void;
  save(): Promise<string>;
}
interface Provider {
  callback(): Handler;
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<Interaction>;
  interactionFinished(req: IncomingMessage, res: ServerResponse, result: object, options: object): Promise<void>;
  Grant: { new (init: { accountId: string; clientId: string }): Grant; find(id: string): Promise<Grant | undefined> };
  Client: { validate(metadata: object): Promise<void> };
  on(event: string, listener: (...args: any[]) => void): unknown;
}
interface LoginCheckContext {
  oidc: { params: { login_hint?: unknown }; session: { accountId?: string }; result?: unknown };
}
interface OidcProviderModule {
  default: new (issuer: string, configuration: object) => Provider;
  interactionPolicy: {
    base(): Array<{ name: string; checks: unknown[] }> & { get(name: string): { checks: unknown[] } };
    Check: new (reason: string, description: string, check: (ctx: LoginCheckContext) => boolean) => unknown;
  };
}

let oidcModule: Promise<OidcProviderModule> | undefined;
/** Imports oidc-provider once, dropping only its "Unsupported runtime" banner (it runs fine on Node 20). */
function loadOidcProvider(): Promise<OidcProviderModule> {
  oidcModule ??= (async () => {
    const warn = console.warn;
    console.warn = (...args: unknown[]) => {
      if (typeof args[0] === 'string' && args[0].includes('Unsupported runtime')) return;
      warn.apply(console, args);
    };
    try {
      // @ts-expect-error -- no declarations; typed through OidcProviderModule
      return (await import('oidc-provider')) as OidcProviderModule;
    } finally {
      console.warn = warn;
    }
  })();
  return oidcModule;
}

interface TenantBase {
  config: DemoTenant;
  issuer: string;
  accounts: Map<string, DemoAccount>;
  /** Claim names beyond the standard scopes' ones, carried by the `openid` scope. */
  extraClaims: Set<string>;
  entries: DemoStorage;
  jwk: object;
}
type TenantState = TenantBase & { provider: Provider; handler: Handler };

const clientMetadata = (c: DemoClient) => ({
  client_id: c.client_id,
  redirect_uris: [...c.redirect_uris],
  response_types: ['code'],
  grant_types: ['authorization_code'],
  // A secret client may authenticate with client_secret_basic or _post: oidc-provider accepts either for
  // a client registered with one of them.
  ...(c.client_secret ? { client_secret: c.client_secret, token_endpoint_auth_method: 'client_secret_basic' } : { token_endpoint_auth_method: 'none' }),
});

/** Starts the demo IdP; resolves once it listens. */
export async function startDemoIdp(options: DemoIdpOptions): Promise<DemoIdp> {
  const oidc = await loadOidcProvider();
  const report = options.onError ?? ((error: unknown) => console.error('demo-idp:', error));
  const host = options.host ?? '127.0.0.1';
  const cookieKeys = [randomBytes(32).toString('base64url')];
  const app = express();
  app.disable('x-powered-by');
  const server = await new Promise<Server>((resolve, reject) => {
    // Express 5 passes a listen error (a taken port) to the callback: reject rather than resolve.
    const s = app.listen(options.port ?? 0, host, (error?: Error) => (error ? reject(error) : resolve(s)));
  });
  const { port } = server.address() as AddressInfo;
  // The issuer needs a host browsers can reach: a wildcard listen address becomes loopback.
  const publicHost = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  const origin = `http://${publicHost.includes(':') ? `[${publicHost}]` : publicHost}:${port}`;
  const tenants = new Map<string, TenantState>();

  /** (Re)creates a tenant's Provider. All state lives in `entries`, keys and accounts, which survive a
   * rebuild, so rebuilding to learn a new extra claim is invisible to browsers and relying parties. */
  function build(t: TenantBase): { provider: Provider; handler: Handler } {
    const id = t.config.id;
    const policy = oidc.interactionPolicy.base();
    // oidc-provider ignores login_hint once a session exists; the tests switch users in one browser, so
    // a hint naming another account asks for login again (not while resuming, or a page pick would loop).
    policy.get('login').checks.push(
      new oidc.interactionPolicy.Check('login_hint_other_account', 'login_hint names another account', (ctx) => {
        const hint = ctx.oidc.params.login_hint;
        return typeof hint === 'string' && !ctx.oidc.result && hint !== ctx.oidc.session.accountId;
      }),
    );
    const provider = new oidc.default(t.issuer, {
      adapter: createDemoAdapter(t.entries),
      jwks: { keys: [t.jwk] },
      cookies: { keys: cookieKeys, long: { httpOnly: true, sameSite: 'lax', path: `/t/${id}/` } },
      async findAccount(_ctx: unknown, sub: string) {
        const account = t.accounts.get(sub);
        if (!account) return undefined;
        return {
          accountId: sub,
          claims: () => {
            const { label: _label, ...claims } = t.accounts.get(sub) ?? account;
            return { ...claims, sub };
          },
        };
      },
      scopes: ['openid', 'email', 'profile'],
      claims: { openid: ['sub', ...t.extraClaims], email: [...SCOPE_CLAIMS.email], profile: [...SCOPE_CLAIMS.profile] },
      conformIdTokenClaims: (t.config.claimsIn ?? 'id_token') === 'userinfo',
      responseTypes: ['code'],
      pkce: { required: () => true }, // S256 is the only method oidc-provider 9 implements
      issueRefreshToken: () => false,
      interactions: { policy, url: (_ctx: unknown, i: { uid: string }) => `/t/${id}/interaction/${i.uid}` },
      features: {
        devInteractions: { enabled: false },
        userinfo: { enabled: true },
        rpInitiatedLogout: {
          enabled: true, // also used by oidc-provider to switch the logged-in account
          logoutSource: (ctx: { body: string }, form: string) => {
            ctx.body = messagePage('Sign out', `${form}<button form="op.logoutForm" name="logout" value="yes">Sign out</button>`);
          },
          postLogoutSuccessSource: (ctx: { body: string }) => {
            ctx.body = messagePage('Signed out', '<p>You are signed out of the demo IdP.</p>');
          },
        },
      },
      // Browser CORS only for public clients' own origins (the default, minus its console notice).
      clientBasedCORS: (_ctx: unknown, corsOrigin: string, client: { clientAuthMethod: string; redirectUris: string[] }) =>
        client.clientAuthMethod === 'none' && client.redirectUris.some((u) => new URL(u).origin === corsOrigin),
      renderError: (ctx: { type: string; body: string }, out: Record<string, string>) => {
        ctx.type = 'html';
        ctx.body = messagePage('Sign-in error', `<p><code>${escapeHtml(out.error ?? 'error')}</code> ${escapeHtml(out.error_description ?? '')}</p>`);
      },
      // Numbers, not the default functions: those print a "you SHOULD change" notice on first use.
      ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 86_400, Grant: 86_400 },
    });
    // oidc-provider answers OAuth errors itself and emits 'server_error' for 500s. The Provider is also a
    // Koa app: an 'error' listener replaces Koa's console logging of whatever escapes that handler.
    provider.on('server_error', (_ctx: unknown, error: unknown) => report(error));
    provider.on('error', (error: { status?: number } | null) => {
      if ((error?.status ?? 500) >= 500) report(error);
    });
    return { provider, handler: provider.callback() };
  }

  function tenant(tenantId: string): TenantState {
    const t = tenants.get(tenantId);
    if (!t) throw new Error(`demo-idp: no tenant ${JSON.stringify(tenantId)}`);
    return t;
  }

  /** Stores the account; returns true when it carries an extra claim the Provider does not emit yet. */
  function putAccount(t: TenantBase, account: DemoAccount): boolean {
    if (typeof account.sub !== 'string' || account.sub === '') throw new Error('demo-idp: account.sub is required');
    t.accounts.set(account.sub, { ...account });
    let added = false;
    for (const [claim, value] of Object.entries(account)) {
      if (STANDARD.has(claim) || value === undefined || t.extraClaims.has(claim)) continue;
      t.extraClaims.add(claim);
      added = true;
    }
    return added;
  }

  async function putClient(t: TenantState, client: DemoClient): Promise<void> {
    const metadata = clientMetadata(client);
    await t.provider.Client.validate(metadata);
    // Clients live in the adapter (oidc-provider's dynamic-client path), so no restart is needed.
    t.entries.set(`Client:${client.client_id}`, metadata, Infinity);
  }

  const generateRsa = promisify(generateKeyPair);
  try {
    for (const config of options.tenants) {
      if (!TENANT_ID.test(config.id) || tenants.has(config.id)) throw new Error(`demo-idp: bad or duplicate tenant id ${JSON.stringify(config.id)}`);
      const { privateKey } = await generateRsa('rsa', { modulusLength: 2048 });
      const jwk = { ...privateKey.export({ format: 'jwk' }), kid: `${config.id}-${randomBytes(4).toString('hex')}`, use: 'sig', alg: 'RS256' };
      const base: TenantBase = { config, issuer: `${origin}/t/${config.id}`, accounts: new Map(), extraClaims: new Set(), entries: new DemoStorage(), jwk };
      for (const account of config.accounts) putAccount(base, account);
      const t: TenantState = Object.assign(base, build(base));
      for (const client of config.clients) await putClient(t, client);
      tenants.set(config.id, t);
      app.use(`/t/${config.id}`, tenantRouter(t));
    }
  } catch (error) {
    server.close();
    throw error;
  }
  app.use((_req, res) => void res.status(404).type('html').send(messagePage('Not found', '<p>No such page.</p>')));

  /** Interaction routes, mounted before the Provider's own callback. */
  function tenantRouter(t: TenantState): express.Router {
    const router = express.Router();
    const finish = async (req: express.Request, res: express.Response, details: Interaction, accountId: string) => {
      const clientId = String(details.params.client_id);
      const existing = details.grantId ? await t.provider.Grant.find(details.grantId) : undefined;
      const grant = existing?.accountId === accountId ? existing : new t.provider.Grant({ accountId, clientId });
      // Consent to everything asked: the scopes, claims of a `claims` request parameter, and whatever the
      // consent prompt lists as missing. Saved, the grant is found again by loadExistingGrant next time.
      grant.addOIDCScope([details.params.scope, ...(details.prompt.details.missingOIDCScope ?? [])].filter(Boolean).join(' '));
      grant.addOIDCClaims([...requestedClaims(details.params.claims), ...(details.prompt.details.missingOIDCClaims ?? [])]);
      const grantId = await grant.save();
      const login = details.prompt.name === 'login' || details.session?.accountId !== accountId;
      await t.provider.interactionFinished(req, res, { ...(login ? { login: { accountId } } : {}), consent: { grantId } }, { mergeWithLastSubmission: false });
    };
    const page = (res: express.Response, uid: string, details: Interaction, status: number, notice?: string) => {
      const accounts = [...t.accounts.values()].map((a) => ({ sub: a.sub, label: a.label ?? a.name ?? a.sub, email: a.email }));
      res.status(status).type('html').set('cache-control', 'no-store');
      res.send(
        loginPage({ tenantId: t.config.id, clientId: String(details.params.client_id), action: `/t/${t.config.id}/interaction/${uid}`, accounts, notice }),
      );
    };

    router.get('/interaction/:uid', async (req, res) => {
      const details = await t.provider.interactionDetails(req, res);
      const hint = details.params.login_hint;
      if (details.prompt.name !== 'login' && details.session?.accountId) return finish(req, res, details, details.session.accountId);
      if (typeof hint === 'string' && t.accounts.has(hint)) return finish(req, res, details, hint);
      page(res, req.params.uid, details, 200, typeof hint === 'string' ? `No account "${hint}" at this IdP: choose one.` : undefined);
    });
    router.post('/interaction/:uid/login', express.urlencoded({ extended: false }), async (req, res) => {
      const details = await t.provider.interactionDetails(req, res);
      const sub = (req.body as Record<string, unknown> | undefined)?.sub;
      if (typeof sub === 'string' && t.accounts.has(sub)) return finish(req, res, details, sub);
      page(res, req.params.uid, details, 400, 'Unknown account: choose one.');
    });
    router.post('/interaction/:uid/abort', async (req, res) => {
      await t.provider.interactionFinished(
        req,
        res,
        { error: 'access_denied', error_description: 'End-User aborted interaction' },
        { mergeWithLastSubmission: false },
      );
    });
    // Everything else is the Provider's. Dispatch through `t` so a rebuilt Provider takes over at once.
    router.use((req, res) => void t.handler(req, res));
    // Our routes' errors: an expired or foreign interaction (SessionNotFound) is the user's, not a bug.
    router.use((error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      const expired = (error as { name?: string } | null)?.name === 'SessionNotFound';
      if (!expired) report(error);
      if (res.headersSent) return;
      res
        .status(expired ? 400 : 500)
        .type('html')
        .send(
          messagePage(
            'Sign-in error',
            expired
              ? '<p>This sign-in request has expired or is invalid. Start again from the application.</p>'
              : '<p>The demo IdP failed to handle this request.</p>',
          ),
        );
    });
    return router;
  }

  return {
    origin,
    issuer: (tenantId) => tenant(tenantId).issuer,
    upsertAccount(tenantId, account) {
      const t = tenant(tenantId);
      if (putAccount(t, account)) Object.assign(t, build(t));
    },
    async addClient(tenantId, client) {
      await putClient(tenant(tenantId), client);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections(); // keep-alive sockets of fetch() would hold close() open
      }),
  };
}

/** Claim names of a `claims` authorization request parameter (a JSON string), if any. */
function requestedClaims(value: unknown): string[] {
  if (typeof value !== 'string') return [];
  try {
    const parsed = JSON.parse(value) as Record<string, Record<string, unknown> | null>;
    return [...Object.keys(parsed.id_token ?? {}), ...Object.keys(parsed.userinfo ?? {})];
  } catch {
    return []; // oidc-provider has already rejected a malformed parameter
  }
}

/* ---- storage: oidc-provider's adapter interface over one DemoStorage per tenant ---- */

// Models whose entries carry a grantId and go when the grant is revoked (as oidc-provider's own adapter).
const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);
/** Payload fields oidc-provider looks entries up by (findByUid, findByUserCode). */
const LOOKUP_FIELDS = ['uid', 'userCode'] as const;

/**
 * One tenant's stored models (`<model>:<id>` -> payload), with the lookups oidc-provider makes by `uid`,
 * `userCode` and `grantId` kept as indexes: every lookup is O(1) however many sessions and grants the demo
 * has piled up (a scan of them all was a sixth of a login's CPU after a few thousand logins); expired entries
 * are swept every 500 writes.
 */
export class DemoStorage {
  private readonly entries = new Map<string, { payload: Record<string, unknown>; expiresAt: number }>();
  /** `<model>:<field>:<value>` -> key of the entry holding it. */
  private readonly byField = new Map<string, string>();
  /** grantId -> keys of the entries it revokes. */
  private readonly byGrant = new Map<string, Set<string>>();
  private writes = 0;

  set(key: string, payload: Record<string, unknown>, expiresAt: number): void {
    this.delete(key);
    this.entries.set(key, { payload, expiresAt });
    const model = key.slice(0, key.indexOf(':'));
    for (const field of LOOKUP_FIELDS) {
      if (typeof payload[field] === 'string') this.byField.set(`${model}:${field}:${payload[field]}`, key);
    }
    if (GRANTABLE.has(model) && typeof payload.grantId === 'string') {
      const keys = this.byGrant.get(payload.grantId) ?? new Set<string>();
      this.byGrant.set(payload.grantId, keys.add(key));
    }
    if (++this.writes % 500 === 0) for (const k of [...this.entries.keys()]) this.get(k); // sweep expired entries
  }

  /** The live payload at key; an expired entry is dropped. */
  get(key: string): Record<string, unknown> | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt > Date.now()) return entry.payload;
    this.delete(key);
    return undefined;
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    const model = key.slice(0, key.indexOf(':'));
    for (const field of LOOKUP_FIELDS) {
      const indexed = `${model}:${field}:${String(entry.payload[field])}`;
      if (this.byField.get(indexed) === key) this.byField.delete(indexed);
    }
    const grant = entry.payload.grantId;
    if (typeof grant === 'string') {
      const keys = this.byGrant.get(grant);
      keys?.delete(key);
      if (keys?.size === 0) this.byGrant.delete(grant);
    }
  }

  findBy(model: string, field: (typeof LOOKUP_FIELDS)[number], value: string): Record<string, unknown> | undefined {
    const key = this.byField.get(`${model}:${field}:${value}`);
    const payload = key === undefined ? undefined : this.get(key);
    return payload?.[field] === value ? payload : undefined;
  }

  revokeGrant(grantId: string): void {
    for (const key of [...(this.byGrant.get(grantId) ?? [])]) this.delete(key);
  }
}

/**
 * Our own in-memory adapter rather than oidc-provider's default one: that one prints a "MUST change"
 * warning, and a store we hold is where runtime clients are registered (`Client:<id>`) and what lets a
 * rebuilt Provider carry on with the same sessions, interactions and grants.
 */
function createDemoAdapter(storage: DemoStorage) {
  return (model: string) => ({
    async upsert(id: string, payload: Record<string, unknown>, expiresIn?: number) {
      storage.set(`${model}:${id}`, payload, expiresIn ? Date.now() + expiresIn * 1000 : Infinity);
    },
    find: async (id: string) => storage.get(`${model}:${id}`),
    findByUid: async (uid: string) => storage.findBy(model, 'uid', uid),
    findByUserCode: async (userCode: string) => storage.findBy(model, 'userCode', userCode),
    async consume(id: string) {
      const payload = storage.get(`${model}:${id}`);
      if (payload) payload.consumed = Math.floor(Date.now() / 1000);
    },
    destroy: async (id: string) => storage.delete(`${model}:${id}`),
    revokeByGrantId: async (grantId: string) => storage.revokeGrant(grantId),
  });
}

/* ---- pages ---- */

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const STYLE =
  'body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem}' +
  'ul{list-style:none;padding:0}li{margin:.5rem 0}button{width:100%;padding:.6rem;text-align:left;font:inherit;cursor:pointer}' +
  'button span{display:block;color:#555;font-size:.9em}.notice{padding:.5rem;background:#fff3cd}';

/** A whole HTML page; `bodyHtml` must already be escaped. */
function messagePage(title: string, bodyHtml: string): string {
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">` +
    `<title>${escapeHtml(title)} · demo IdP</title><style>${STYLE}</style></head>` +
    `<body><main><h1>${escapeHtml(title)}</h1>${bodyHtml}</main></body></html>`
  );
}

interface LoginPageInput {
  tenantId: string;
  clientId: string;
  action: string;
  accounts: Array<{ sub: string; label: string; email: string | undefined }>;
  notice: string | undefined;
}

/** The account picker: one form POST per account, so it works without JavaScript (and headless). */
function loginPage(p: LoginPageInput): string {
  const items = p.accounts
    .map(
      (a) =>
        `<li><form method="post" action="${escapeHtml(p.action)}/login">` +
        `<input type="hidden" name="sub" value="${escapeHtml(a.sub)}">` +
        `<button type="submit">${escapeHtml(a.label)}${a.email ? `<span>${escapeHtml(a.email)}</span>` : ''}</button></form></li>`,
    )
    .join('');
  return messagePage(
    `Sign in to ${p.tenantId}`,
    (p.notice ? `<p class="notice" role="alert">${escapeHtml(p.notice)}</p>` : '') +
      `<p>Demo identity provider. <code>${escapeHtml(p.clientId)}</code> asks you to sign in. Choose an account:</p>` +
      (items ? `<ul aria-label="Accounts">${items}</ul>` : '<p>This tenant has no accounts.</p>') +
      `<form method="post" action="${escapeHtml(p.action)}/abort"><button type="submit">Cancel</button></form>`,
  );
}
