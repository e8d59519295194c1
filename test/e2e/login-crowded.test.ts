/**
 * A login by a crowded value (src/store/crowded-values.ts): more SCIM users hold it than
 * `quota.maxResourcesPerValue` lets an index list. They are all provisioned; a real login by that value is
 * refused `ambiguous` (it names nobody), and admitted again once the value is an ordinary one.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS } from '../support/app.js';
import { Browser } from '../support/browser.js';
import { startLoginHarness, type Customer, type LoginHarness } from './harness.js';

describe.each(STORE_KINDS)('login by a crowded value (%s store)', (storeKind) => {
  let h: LoginHarness;
  let customer: Customer;

  beforeAll(async () => {
    h = await startLoginHarness({ store: storeKind, adapter: 'express', hint: 'crowded', ssoOptions: { quota: { maxResourcesPerValue: 2 } } });
    customer = await h.customer({ customerId: 'crowded', tenant: 'crowded', idpType: 'Generic', matchingStrategy: 'OidcSubToScimExternalId' });
  });
  afterAll(async () => {
    await h?.close();
  });
  afterEach(() => {
    expect({ server: h.serverErrors.splice(0), idp: h.idp.errors.splice(0) }).toEqual({ server: [], idp: [] });
  });

  it('provisions every holder, refuses the login as ambiguous while the value is crowded, and decides as ever after', async () => {
    const account = { sub: 'placeholder-ext', email: 'p@idp.test', email_verified: true };
    h.idp.upsertAccount(customer.tenant, account);
    const ids: string[] = [];
    for (const name of ['ann', 'bob', 'cid']) ids.push(await customer.scim.createUser({ userName: `${name}@corp.test`, externalId: 'placeholder-ext' }));
    // Only ann is active: without the quota she would be admitted, but the value names three users.
    for (const id of ids.slice(1)) await customer.scim.patch(id, [{ op: 'replace', path: 'active', value: false }]);
    const crowded = await h.login(new Browser(), customer.customerId, account.sub);
    expect([crowded.status, crowded.body]).toEqual([403, { error: 'ScimUserNotActive', reason: 'ambiguous' }]);
    // The holder past the quota takes another value: ann is the person's account again.
    await customer.scim.patch(ids[2]!, [{ op: 'replace', path: 'externalId', value: 'own-ext' }]);
    const admitted = await h.login(new Browser(), customer.customerId, account.sub);
    expect([admitted.status, admitted.body.scimUserId, admitted.body.userName]).toEqual([200, ids[0], 'ann@corp.test']);
  });
});
