/**
 * Sequences real IdPs run in production that break other SCIM + SSO servers, through a real login:
 * - Okta replaces a user by deactivating it and POSTing a new one with the same externalId (rename,
 *   re-assignment): the person logs in as the new, active user; the deactivated record is history.
 * - Entra sends no `email_verified`: each email strategy still admits (requireVerifiedEmail is off by default).
 * - The customer recreates its SSO connection and the IdP now sends a new `sub` for the same person: the
 *   guard matches on SCIM data, not on a link remembered from an earlier login.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS } from '../support/app.js';
import { Browser } from '../support/browser.js';
import { ADAPTERS, startLoginHarness, uid, type LoginHarness } from './harness.js';

const deactivate = [{ op: 'replace', value: { active: false } }];

describe.each(STORE_KINDS)('IdP sequences at login (%s store)', (storeKind) => {
  describe.each(ADAPTERS)('%s adapter', (adapter) => {
    let h: LoginHarness;
    beforeAll(async () => {
      h = await startLoginHarness({ store: storeKind, adapter, hint: `idp-seq-${adapter}` });
    });
    afterAll(async () => {
      await h?.close();
    });
    afterEach(() => {
      expect({ server: h.serverErrors.splice(0), idp: h.idp.errors.splice(0) }).toEqual({ server: [], idp: [] });
    });

    it("Okta's deactivate-then-POST on a rename: the new user with the same externalId is the one admitted", async () => {
      const customerId = `okta-rename-${uid()}`;
      const c = await h.customer({ customerId, tenant: 'seq', idpType: 'Okta', matchingStrategy: 'OidcSubToScimExternalId' });
      const sub = `00u${uid()}`;
      h.idp.upsertAccount('seq', { sub, email: `old-${customerId}@corp.test`, email_verified: true });
      const oldId = await c.scim.createUser({ userName: `old-${customerId}@corp.test`, externalId: sub });
      expect(await h.login(new Browser(), customerId, sub)).toMatchObject({ status: 200, body: { scimUserId: oldId } });

      await c.scim.patch(oldId, deactivate);
      expect(await h.login(new Browser(), customerId, sub)).toMatchObject({ status: 403, body: { reason: 'deactivated' } });
      const newId = await c.scim.createUser({ userName: `new-${customerId}@corp.test`, externalId: sub });
      expect(newId).not.toBe(oldId);
      expect(await h.login(new Browser(), customerId, sub)).toMatchObject({ status: 200, body: { scimUserId: newId } });

      // Deprovisioning the new one locks the person out again: both records are inactive.
      await c.scim.patch(newId, deactivate);
      expect(await h.login(new Browser(), customerId, sub)).toMatchObject({ status: 403, body: { reason: 'deactivated' } });
    });

    it("Okta's re-assignment: a second active user with the same externalId is ambiguous, never a guess", async () => {
      const customerId = `okta-twice-${uid()}`;
      const c = await h.customer({ customerId, tenant: 'seq', idpType: 'Okta', matchingStrategy: 'OidcSubToScimExternalId' });
      const sub = `00u${uid()}`;
      h.idp.upsertAccount('seq', { sub });
      await c.scim.createUser({ userName: `a-${customerId}@corp.test`, externalId: sub });
      await c.scim.createUser({ userName: `b-${customerId}@corp.test`, externalId: sub });
      expect(await h.login(new Browser(), customerId, sub)).toMatchObject({ status: 403, body: { reason: 'ambiguous' } });
    });

    it('Entra sends no email_verified: each email strategy admits the person', async () => {
      for (const matchingStrategy of ['OidcEmailToScimUsername', 'OidcEmailUsernameToScimUsername'] as const) {
        const customerId = `entra-${uid()}`;
        const c = await h.customer({ customerId, tenant: 'seq', idpType: 'MicrosoftEntra', matchingStrategy });
        const userName = `${customerId}@corp.test`;
        const id = await c.scim.createUser({ userName });
        const sub = `entra-${uid()}`;
        // Entra-shaped claims: oid and email, no email_verified.
        h.idp.upsertAccount('seq', { sub, oid: sub, email: userName.toUpperCase() } as Parameters<typeof h.idp.upsertAccount>[1]);
        expect(await h.login(new Browser(), customerId, sub), matchingStrategy).toMatchObject({ status: 200, body: { scimUserId: id } });
      }
    });

    it('an SSO connection recreated with a new sub for the same person still matches the same SCIM user', async () => {
      const customerId = `recreated-${uid()}`;
      const c = await h.customer({ customerId, tenant: 'seq', idpType: 'Generic', matchingStrategy: 'OidcEmailToScimUsername' });
      const email = `${customerId}@corp.test`;
      const id = await c.scim.createUser({ userName: email });
      const firstSub = `first-${uid()}`;
      h.idp.upsertAccount('seq', { sub: firstSub, email, email_verified: true });
      expect(await h.login(new Browser(), customerId, firstSub)).toMatchObject({ status: 200, body: { scimUserId: id } });

      const { sso } = await h.instance(0);
      const before = await sso.fetchOidcClient(customerId);
      expect(await sso.deleteOidcClient(customerId)).toBe(true);
      await sso.createOidcClient({
        customerId,
        idpType: 'Generic',
        issuer: c.issuer,
        clientId: c.clientId,
        clientSecret: c.clientSecret,
        redirectUri: c.redirectUri,
        matchingStrategy: 'OidcEmailToScimUsername',
      });
      expect((await sso.fetchOidcClient(customerId))?.oidcClientId).not.toBe(before?.oidcClientId);

      const secondSub = `second-${uid()}`;
      h.idp.upsertAccount('seq', { sub: secondSub, email, email_verified: true });
      expect(await h.login(new Browser(), customerId, secondSub)).toMatchObject({ status: 200, body: { scimUserId: id } });
      // The old subject is gone with the deleted client; the new one is recorded against the same SCIM user.
      const recorded = await sso.listSsoUsers(customerId);
      expect(recorded.map((u) => [u.subject, u.lastScimUserId])).toEqual([[secondSub, id]]);
    });
  });
});
