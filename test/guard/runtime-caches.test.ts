/**
 * The login runtime's per-process caches are bounded LRUs keyed by what the store holds: discovery per
 * issuer/client/secret, strategies per customer and stored client version. Real oidc-provider, real store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
