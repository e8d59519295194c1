/**
 * An app (Express or Koa) with scim-sso's SCIM routes and the setup portal mounted, on a memory or Redis
 * store whose clock the tests move, and the demo IdP (a real oidc-provider) with one tenant per customer.
 * Customers `acme` (Okta-type) and `beta` (another customer, set up by the app's staff: a SCIM connection
 * and an OIDC client) are the tests' "customer A" and "customer B".
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Koa from 'koa';
import type { AuditEvent } from '../../src/index.js';
import { setupPortal as expressSetupPortal } from '../../src/express/setup.js';
import { setupPortal as koaSetupPortal } from '../../src/koa/setup.js';
import { startDemoIdp, type DemoAccount, type DemoIdp, type DemoTenant } from '../../example-app/demo-idp.js';
import { Browser, parseForms } from '../support/browser.js';
import type { AdapterKind } from '../support/adapters.js';
import { makeStore, type StoreKind } from '../support/app.js';
import { scimSso, type ScimSso } from '../support/sso.js';

export const A = 'acme';
export const B = 'beta';
export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';

export interface PortalFixture {
  sso: ScimSso;
  origin: string;
  idp: DemoIdp;
  /** The stores' clock offset (ms): tests move it forward instead of sleeping. */
  clock: { offset: number };
  events: AuditEvent[];
  errors: unknown[];
  /** B's SCIM token (set up by the app's staff). */
  betaToken: string;
  /** Registers an OIDC client at the customer's IdP tenant with the app's and the portal's redirect URIs. */
  registerClient(customerId: string): Promise<{ clientId: string; clientSecret: string }>;
  account(customerId: string, account: DemoAccount): void;
  cleanup(): Promise<void>;
}

/** The first form on a page whose action ends with `suffix`, with its fields. */
export function formOf(html: string, pageUrl: string, suffix: string) {
  const form = parseForms(html, pageUrl).find((f) => f.action.endsWith(suffix));
  if (!form) throw new Error(`no form posting to …${suffix} on ${pageUrl}`);
  return form;
}

/** Posts a form as a browser would (same-origin), with extra or replaced fields. */
export async function submit(browser: Browser, page: { html: string; url: string }, suffix: string, fields: Record<string, string> = {}) {
  const form = formOf(page.html, page.url, suffix);
  return browser.navigate(form.action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
    body: new URLSearchParams({ ...form.fields, ...fields }).toString(),
  });
}

/** GETs a page with every redirect followed; its final URL, status and HTML. */
export async function open(browser: Browser, url: string) {
  const { response, url: final } = await browser.navigate(url);
  return { status: response.status, url: final, html: await response.text(), headers: response.headers };
}

/** `tenants`: more demo IdP tenants (one per fresh customer of a test, e.g. an Entra-like one with claimsIn 'userinfo'). */
export async function portalFixture(store: StoreKind, adapter: AdapterKind, hint: string, tenants: Omit<DemoTenant, 'clients'>[] = []): Promise<PortalFixture> {
  const clock = { offset: 0 };
  const made = await makeStore(store, hint, { now: () => Date.now() + clock.offset });
  const events: AuditEvent[] = [];
  const errors: unknown[] = [];
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => void res.end();
  const server: Server = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const sso = scimSso({
    store: made.store,
    allowHttpIssuers: true,
    setupPortalUrl: `${origin}/setup`,
    onEvent: (event) => events.push(event),
    onError: (error) => errors.push(error),
  });
  const idp = await startDemoIdp({
    tenants: [...[A, B].map((id) => ({ id, accounts: [] })), ...tenants].map((t) => ({ ...t, clients: [] })),
    onError: (error) => errors.push(error),
  });
  if (adapter === 'express') {
    const app = express();
    app.use(sso);
    app.use(expressSetupPortal(sso, { appName: 'Acme Notes' }));
    handler = app;
  } else {
    const app = new Koa();
    app.use(sso.koa);
    app.use(koaSetupPortal(sso, { appName: 'Acme Notes' }));
    handler = app.callback();
  }
  const registerClient = async (customerId: string) => {
    const clientId = `${customerId}-app`;
    const clientSecret = `secret-${customerId}-0123456789`;
    await idp.addClient(customerId, {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [`${origin}/sso/${customerId}/callback`, `${origin}/setup/${customerId}/test/callback`],
    });
    return { clientId, clientSecret };
  };
  // Customer B, set up by the app's staff.
  const beta = await sso.createScimConnection({ customerId: B });
  const betaClient = await registerClient(B);
  await sso.createOidcClient({ customerId: B, idpType: 'MicrosoftEntra', issuer: idp.issuer(B), ...betaClient, redirectUri: `${origin}/sso/${B}/callback` });
  return {
    sso,
    origin,
    idp,
    clock,
    events,
    errors,
    betaToken: beta.token,
    registerClient,
    account: (customerId, account) => idp.upsertAccount(customerId, account),
    async cleanup() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await idp.close();
      await made.cleanup();
    },
  };
}
