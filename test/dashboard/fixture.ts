/**
 * A scim-sso instance with the dashboard mounted, and a customer whose data exercises every page:
 * active and deactivated SCIM users, a group, SSO users the default strategy matches and one it does
 * not (but OidcSubToScimExternalId does), plus a SCIM-only customer without an OIDC client.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Koa from 'koa';
import supertest from 'supertest';
import type { DashboardOptions } from '../../src/index.js';
import { dashboard as expressDashboard, type ExpressDashboardOptions } from '../../src/express/dashboard.js';
import { dashboard as koaDashboard, type KoaDashboardOptions } from '../../src/koa/dashboard.js';
import type { StoredSsoUser } from '../../src/store/store.js';
import type { AdapterKind } from '../support/adapters.js';
import { makeStore, type StoreKind } from '../support/app.js';
import { scimSso, type ScimSso } from '../support/sso.js';
import { createDashboardCore } from '../../src/dashboard/index.js';

export const CUSTOMER = 'acme';
export const SCIM_ONLY = 'scim-only';
export const HOSTILE_USERNAME = '<script>alert(1)</script>@evil.test';
export const HOSTILE_NAME = '"><img src=x onerror=alert(2)></script>';
export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';

/** Requests carrying this header are the admin in these tests. */
export const ADMIN = { 'x-test-admin': 'yes' };

export interface DashboardFixture {
  sso: ScimSso;
  origin: string;
  /** A supertest agent keeping cookies (the CSRF cookie). */
  agent(): supertest.Agent;
  token: string;
  scimOnlyToken: string;
  userIds: Record<string, string>;
  errors: unknown[];
  cleanup(): Promise<void>;
}

export const ssoUser = (over: Partial<StoredSsoUser> & { subject: string }): StoredSsoUser => ({
  email: null,
  emailVerified: true,
  preferredUsername: null,
  name: null,
  claims: { sub: over.subject },
  firstSeenAt: '2026-11-01T10:00:00.000Z',
  lastSeenAt: '2026-11-02T10:00:00.000Z',
  lastOutcome: 'refused',
  lastReason: 'not_provisioned',
  lastScimUserId: null,
  ...over,
});

/** What `authorize` reads of the request, the same on Express (`req.get`) and Koa (`ctx.get`). */
export interface HeaderReader {
  get(name: string): string | undefined;
}

export const defaultAuthorize = (req: HeaderReader) => req.get('x-test-admin') === 'yes';

/** Options for either adapter: `authorize` receives Express's `req` or Koa's `ctx`. */
export type AnyDashboardOptions = DashboardOptions<never>;

/** Mounts the dashboard of `sso` at the root (it serves under `/admin`), after the SCIM routes. */
export function dashboardApp(sso: ScimSso, adapter: AdapterKind, options: AnyDashboardOptions | null): Server {
  if (adapter === 'express') {
    const app = express();
    app.use(sso);
    app.use(options === null ? expressDashboard(sso) : expressDashboard(sso, options as ExpressDashboardOptions));
    return createServer(app);
  }
  const app = new Koa();
  app.use(sso.koa);
  app.use(options === null ? koaDashboard(sso) : koaDashboard(sso, options as KoaDashboardOptions));
  return createServer(app.callback());
}

/** `options` null mounts `dashboard(sso)` with no options at all. */
export async function dashboardFixture(
  kind: StoreKind,
  options: AnyDashboardOptions | null = { authorize: defaultAuthorize },
  adapter: AdapterKind = 'express',
): Promise<DashboardFixture> {
  const { store, cleanup } = await makeStore(kind, `dashboard-${kind}-${adapter}`);
  const errors: unknown[] = [];
  const sso = scimSso({ store, onError: (e) => errors.push(e) });
  const server = dashboardApp(sso, adapter, options);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const { token } = await sso.createScimConnection({ customerId: CUSTOMER, displayName: 'Acme <Inc>' });
  await sso.createOidcClient({
    customerId: CUSTOMER,
    idpType: 'Okta',
    issuer: 'https://idp.example.test/acme',
    clientId: 'acme-app',
    redirectUri: 'https://app.example.test/sso/acme/callback',
  });
  const scimOnlyToken = (await sso.createScimConnection({ customerId: SCIM_ONLY })).token;

  const http = supertest(server);
  const userIds: Record<string, string> = {};
  const createUser = async (userName: string, externalId: string, extra: Record<string, unknown> = {}) => {
    const res = await http
      .post('/scim/v2/Users')
      .set('Authorization', `Bearer ${token}`)
      .send({ schemas: [USER_SCHEMA], userName, externalId, emails: [{ value: userName, primary: true }], ...extra });
    if (res.status !== 201) throw new Error(`creating ${userName}: ${res.status} ${res.text}`);
    userIds[userName] = res.body.id as string;
  };
  await createUser('alice@acme.test', '00u-alice', { displayName: 'Alice Active' });
  await createUser('bob@acme.test', '00u-bob', { active: false, displayName: 'Bob Gone' });
  await createUser('dave.okafor@legacy.test', '00u-dave', { displayName: 'Dave Okafor', emails: [{ value: 'dave@acme.test', primary: true }] });
  await createUser(HOSTILE_USERNAME, '00u-hostile', { displayName: HOSTILE_NAME });
  const group = await http
    .post('/scim/v2/Groups')
    .set('Authorization', `Bearer ${token}`)
    .send({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
      displayName: 'Engineering',
      members: [{ value: userIds['alice@acme.test'] }, { value: userIds['dave.okafor@legacy.test'] }],
    });
  if (group.status !== 201) throw new Error(`creating the group: ${group.status}`);

  await store.recordSsoUser(
    CUSTOMER,
    ssoUser({
      subject: '00u-alice',
      email: 'alice@acme.test',
      name: 'Alice Active',
      lastOutcome: 'admitted',
      lastReason: null,
      lastScimUserId: userIds['alice@acme.test']!,
    }),
  );
  await store.recordSsoUser(CUSTOMER, ssoUser({ subject: '00u-bob', email: 'bob@acme.test', name: 'Bob Gone', lastReason: 'deactivated' }));
  await store.recordSsoUser(
    CUSTOMER,
    ssoUser({ subject: '00u-dave', email: 'dave@acme.test', name: 'Dave Okafor', claims: { sub: '00u-dave', email: 'dave@acme.test', given_name: 'Dave' } }),
  );
  await store.recordSsoUser(
    CUSTOMER,
    ssoUser({ subject: '00u-hostile', email: 'mallory@acme.test', name: HOSTILE_NAME, claims: { sub: '00u-hostile', [HOSTILE_NAME]: HOSTILE_NAME } }),
  );

  return {
    sso,
    origin,
    agent: () => supertest.agent(server),
    token,
    scimOnlyToken,
    userIds,
    errors,
    async cleanup() {
      await new Promise((resolve) => server.close(resolve));
      await cleanup();
    },
  };
}

/** The CSRF token of a page's forms. */
export function csrfTokenOf(page: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(page);
  if (!match) throw new Error('no CSRF field in the page');
  return match[1]!;
}

/** A GET of the dashboard's framework-neutral handler (authorizing everyone): the page's status and HTML. */
export function dashboardRenderer(sso: Parameters<typeof createDashboardCore<null>>[0]): (path: string) => Promise<{ status: number; body: string }> {
  const dashboard = createDashboardCore<null>(sso, { authorize: () => true });
  return async (path) => {
    const url = new URL(path, 'http://dashboard.test');
    const response = await dashboard.handle(null, {
      method: 'GET',
      path: url.pathname,
      query: url.searchParams,
      mountPath: '',
      headers: {},
      secure: false,
      form: async () => ({}),
    });
    return { status: response!.status, body: response!.body };
  };
}
