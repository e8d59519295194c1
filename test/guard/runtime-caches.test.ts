/**
 * The login runtime's per-process caches are bounded LRUs keyed by customer: discovery for the customer's
 * issuer/client/secret, strategies for its stored client version. Real oidc-provider, real store.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SsoLoginError } from '../../src/errors.js';
import { memoryStore } from '../../src/store/memory.js';
import type { StoredOidcClient } from '../../src/store/store.js';
import { startDemoIdp, type DemoIdp } from '../../example-app/demo-idp.js';
import { LoginRuntime } from '../../src/guard/passport.js';
import { MAX_METADATA_LIST_ITEMS, MAX_METADATA_NAMES } from '../../src/guard/discovery-document.js';
import { scimSso, type ScimSso } from '../support/sso.js';
import { STORE_KINDS, makeStore, type TestStore } from '../support/app.js';

describe.each(STORE_KINDS)('login runtime caches (%s store)', (kind) => {
  let idp: DemoIdp;
  let made: TestStore;
  let sso: ScimSso;
  const errors: unknown[] = [];

  beforeAll(async () => {
    idp = await startDemoIdp({ tenants: [{ id: 'caches', clients: [], accounts: [] }], onError: (e) => errors.push(e) });
    made = await makeStore(kind, `runtime-caches-${kind}`);
    sso = scimSso({ store: made.store, allowHttpIssuers: true });
    for (let i = 0; i < 8; i++) {
      const clientId = `cache-client-${i}`;
      await idp.addClient('caches', { client_id: clientId, client_secret: `secret-${i}`, redirect_uris: ['http://127.0.0.1/cb'] });
      await sso.createOidcClient({
        customerId: `cache-${i}`,
        idpType: 'Okta',
        issuer: idp.issuer('caches'),
        clientId,
        clientSecret: `secret-${i}`,
        redirectUri: 'http://127.0.0.1/cb',
      });
    }
  });
  afterAll(async () => {
    await idp?.close();
    await made?.cleanup();
    expect(errors).toEqual([]);
  });

  it('never holds more discoveries or strategies than their bounds, however many customers log in', async () => {
    const runtime = new LoginRuntime(made.store, { allowHttpIssuers: true, retryAfterSeconds: 5, cacheLimits: { discoveries: 3, strategies: 3 } });
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 8; i++) {
        await runtime.routeStrategy(await runtime.load(`cache-${i}`));
        expect(runtime.cacheSizes.discoveries).toBeLessThanOrEqual(3);
        expect(runtime.cacheSizes.strategies).toBeLessThanOrEqual(3);
      }
    }
    expect(runtime.cacheSizes).toEqual({ discoveries: 3, strategies: 3 });
  });

  it('keeps one discovery and one strategy per customer, however often its client changes', async () => {
    // Found by an audit (2026-12-06): keyed by issuer, client and secret, a setup-link holder saving new
    // secrets filled the 1,000 entries with one customer's Configurations.
    const runtime = new LoginRuntime(made.store, { allowHttpIssuers: true, retryAfterSeconds: 5 });
    const other = await runtime.routeStrategy(await runtime.load('cache-1'));
    const configurations = new Set<unknown>();
    for (let i = 0; i < 5; i++) {
      await sso.updateOidcClient('cache-0', { clientSecret: `rotated-${i}` });
      const config = await runtime.load('cache-0');
      configurations.add(await runtime.configuration(config.client));
      await runtime.routeStrategy(config);
      expect(runtime.cacheSizes).toEqual({ discoveries: 2, strategies: 2 });
    }
    // Each secret got its own Configuration, replacing the last; the other customer's entries stayed.
    expect(configurations.size).toBe(5);
    expect(await runtime.routeStrategy(await runtime.load('cache-1'))).toBe(other);
  });

  it('keys strategies by the stored client version: an update through another instance yields a new strategy here, the same version the same one', async () => {
    const runtime = new LoginRuntime(made.store, { allowHttpIssuers: true, retryAfterSeconds: 5 });
    const first = await runtime.routeStrategy(await runtime.load('cache-0'));
    expect(await runtime.routeStrategy(await runtime.load('cache-0'))).toBe(first);
    // Another instance (its own scimSso on the same store) changes the client; this runtime was not told.
    await scimSso({ store: made.store, allowHttpIssuers: true }).updateOidcClient('cache-0', { scopes: ['openid', 'email'] });
    const second = await runtime.routeStrategy(await runtime.load('cache-0'));
    expect(second).not.toBe(first);
    expect(await runtime.routeStrategy(await runtime.load('cache-0'))).toBe(second);
  });
});

/**
 * A discovery document the guard cannot use is the IdP's fault: a 400 idp_error, never a 500. The server
 * below is a hostile IdP (a fixed document), not a stand-in for a real one; a client stored before
 * discovery-document addresses were refused is refused at login.
 */
describe('discovery documents the guard cannot use', () => {
  let server: Server;
  let origin: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      const endpoints = { authorization_endpoint: `${origin}/auth`, token_endpoint: `${origin}/token`, jwks_uri: `${origin}/jwks` };
      const tenant = /^\/(padded|heavy)\//.exec(req.url ?? '')?.[1];
      if (tenant === 'padded') {
        const scopes = Array.from({ length: 500 }, (_, i) => `scope${i}`);
        const mtls = { token_endpoint: `${origin}/mtls` };
        const empties = Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`empty${i}`, {}]));
        const flags = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`flag${i}`, true]));
        res.end(
          JSON.stringify({
            issuer: `${origin}/padded`,
            ...endpoints,
            padding: Array(40_000).fill({}),
            objects: [{ a: 1 }],
            scopes_supported: scopes,
            mtls_endpoint_aliases: mtls,
            ...empties,
            ...flags,
          }),
        );
      } else if (tenant === 'heavy') {
        res.end(JSON.stringify({ issuer: `${origin}/heavy`, ...endpoints, service_documentation: 'x'.repeat(40_000) }));
      } else {
        res.end(JSON.stringify({ issuer: 'not a url', ...endpoints }));
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => server?.close());

  const client = (issuer: string): StoredOidcClient => ({
    oidcClientId: 'c1',
    customerId: 'hostile',
    idpType: 'Generic',
    issuer,
    clientId: 'client',
    clientSecret: 'secret',
    redirectUri: 'http://127.0.0.1/cb',
    matchingStrategy: 'OidcEmailToScimEmail',
    subjectClaim: 'sub',
    claimsSource: 'id_token',
    scopes: ['openid', 'email'],
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
  });

  it('keeps only the metadata of a padded discovery document, and refuses one with more than 32 KB of it', async () => {
    const runtime = new LoginRuntime(memoryStore(), { allowHttpIssuers: true, allowPrivateIdpAddresses: true, retryAfterSeconds: 5 });
    const metadata = (await runtime.configuration(client(`${origin}/padded`))).serverMetadata() as Record<string, unknown>;
    expect(metadata).toMatchObject({
      issuer: `${origin}/padded`,
      token_endpoint: `${origin}/token`,
      mtls_endpoint_aliases: { token_endpoint: `${origin}/mtls` },
    });
    // A list of 40,000 empty objects (85,000 made 5 MB of heap once parsed) and a list of objects are no
    // metadata: dropped. So are names holding empty objects (nine times their text in heap, a review found),
    // and names past MAX_METADATA_NAMES.
    expect(Object.hasOwn(metadata, 'padding')).toBe(false);
    expect(Object.hasOwn(metadata, 'objects')).toBe(false);
    expect(metadata.scopes_supported).toHaveLength(MAX_METADATA_LIST_ITEMS);
    expect(Object.keys(metadata).some((name) => name.startsWith('empty'))).toBe(false);
    expect(Object.keys(metadata)).toHaveLength(MAX_METADATA_NAMES);
    expect(Object.keys(metadata).filter((name) => name.startsWith('flag'))).toHaveLength(MAX_METADATA_NAMES - 6);
    const refused = await runtime.configuration(client(`${origin}/heavy`)).catch((error: unknown) => error);
    expect(refused).toMatchObject({
      code: 'idp_error',
      status: 400,
      message: expect.stringMatching(/discovery document holds \d+ KB of metadata, more than the 32 KB kept/),
    });
  });

  it.each([
    ['an issuer that is not a URL', () => `${origin}/t`, /discovery document could not be used/],
    ["an issuer stored as the discovery document's address", () => `${origin}/t/.well-known/openid-configuration`, /discovery document's address/],
  ])('answers 400 idp_error for %s', async (_, issuer, message) => {
    const store = memoryStore();
    const runtime = new LoginRuntime(store, { allowHttpIssuers: true, allowPrivateIdpAddresses: true, retryAfterSeconds: 5 });
    const refused = await runtime.configuration(client(issuer())).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(SsoLoginError);
    expect(refused).toMatchObject({ code: 'idp_error', status: 400, message: expect.stringMatching(message) });
  });
});
