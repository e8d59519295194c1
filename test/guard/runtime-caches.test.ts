/**
 * The login runtime's per-process caches are bounded LRUs keyed by what the store holds: discovery per
 * issuer/client/secret, strategies per customer and stored client version. Real oidc-provider, real store.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SsoLoginError } from '../../src/errors.js';
import { memoryStore } from '../../src/store/memory.js';
import type { StoredOidcClient } from '../../src/store/store.js';
import { startDemoIdp, type DemoIdp } from '../../example-app/demo-idp.js';
import { OidcRuntime } from '../../src/guard/passport.js';
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
    const runtime = new OidcRuntime(made.store, { allowHttpIssuers: true, retryAfterSeconds: 5, cacheLimits: { discoveries: 3, strategies: 3 } });
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 8; i++) {
        await runtime.routeStrategy(await runtime.load(`cache-${i}`));
        expect(runtime.cacheSizes.discoveries).toBeLessThanOrEqual(3);
        expect(runtime.cacheSizes.strategies).toBeLessThanOrEqual(3);
      }
    }
    expect(runtime.cacheSizes).toEqual({ discoveries: 3, strategies: 3 });
  });

  it('keys strategies by the stored client version: an update through another instance yields a new strategy here, the same version the same one', async () => {
    const runtime = new OidcRuntime(made.store, { allowHttpIssuers: true, retryAfterSeconds: 5 });
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
      res.end(JSON.stringify({ issuer: 'not a url', authorization_endpoint: `${origin}/auth`, token_endpoint: `${origin}/token`, jwks_uri: `${origin}/jwks` }));
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

  it.each([
    ['an issuer that is not a URL', () => `${origin}/t`, /discovery document could not be used/],
    ["an issuer stored as the discovery document's address", () => `${origin}/t/.well-known/openid-configuration`, /discovery document's address/],
  ])('answers 400 idp_error for %s', async (_, issuer, message) => {
    const store = memoryStore();
    const runtime = new OidcRuntime(store, { allowHttpIssuers: true, allowPrivateIdpAddresses: true, retryAfterSeconds: 5 });
    const refused = await runtime.configuration(client(issuer())).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(SsoLoginError);
    expect(refused).toMatchObject({ code: 'idp_error', status: 400, message: expect.stringMatching(message) });
  });
});
