/**
 * Refused and failed logins in the customer's activity log (docs/activity.md), on both stores and both
 * adapters: each with its reason, strategy, the person's subject and email, and a hint naming the IdP
 * mapping to fix; admitted logins are not listed; no token or secret is kept; and another instance sees
 * them once the refusing instance has flushed.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ADAPTERS } from '../support/adapters.js';
import { STORE_KINDS } from '../support/app.js';
import { Browser } from '../support/browser.js';
import { startLoginHarness, uid, type LoginHarness } from './harness.js';

describe.each(STORE_KINDS)('refused logins in the activity log (%s store)', (storeKind) => {
  describe.each(ADAPTERS)('%s adapter', (adapter) => {
    let h: LoginHarness;
    beforeAll(async () => {
      h = await startLoginHarness({ store: storeKind, adapter, hint: `login-activity-${adapter}`, ssoOptions: { activityLog: { flushIntervalMs: 20 } } });
    });
    afterAll(async () => {
      await h?.close();
    });
    afterEach(() => {
      expect({ server: h.serverErrors.splice(0), idp: h.idp.errors.splice(0) }).toEqual({ server: [], idp: [] });
    });

    it('lists refused logins with reason, who, strategy and a fix hint; admitted ones are not listed', async () => {
      const customerId = `la-${uid()}`;
      const c = await h.customer({ customerId, tenant: 'la', idpType: 'Okta' });
      const [ann, ben, cid] = [`${customerId}-ann`, `${customerId}-ben`, `${customerId}-cid`];
      for (const sub of [ann, ben, cid]) h.idp.upsertAccount('la', { sub, email: `${sub}@corp.test`, email_verified: true });
      await c.scim.createUser({ userName: `${ann}@corp.test`, active: true });
      const cidId = await c.scim.createUser({ userName: `${cid}@corp.test`, active: true });
      await c.scim.patch(cidId, [{ op: 'replace', path: 'active', value: false }]);

      expect((await h.login(new Browser(), customerId, ann)).status).toBe(200);
      expect((await h.login(new Browser(), customerId, ben)).status).toBe(403);
      expect((await h.login(new Browser(), customerId, cid)).status).toBe(403);

      const { refusedLogins } = await (await h.instance(0)).sso.activity(customerId);
      expect(refusedLogins.map((l) => [l.email, l.outcome, l.reason, l.strategy])).toEqual([
        [`${cid}@corp.test`, 'refused', 'deactivated', 'OidcEmailToScimUsername'],
        [`${ben}@corp.test`, 'refused', 'not_provisioned', 'OidcEmailToScimUsername'],
      ]);
      expect(refusedLogins[0]).toMatchObject({ subject: cid, scimUserId: cidId });
      expect(refusedLogins[1]).toMatchObject({ subject: ben, scimUserId: null });
      expect(refusedLogins[0]!.hint).toMatch(/deactivated/);
      expect(refusedLogins[1]!.hint).toMatch(/userName equal to the email claim/);
      expect(refusedLogins[1]!.hint).toMatch(/Email/);
      const all = JSON.stringify(refusedLogins);
      expect(all).not.toContain(c.clientSecret);
      expect(all).not.toContain(c.token!);
      expect(all).not.toMatch(/eyJ[\w-]+\.eyJ/);
    });

    it('shows a refusal on another instance once the refusing one flushed', async () => {
      const customerId = `lb-${uid()}`;
      const c = await h.customer({ customerId, tenant: 'la', idpType: 'MicrosoftEntra', instance: 1 });
      const dan = `${customerId}-dan`;
      h.idp.upsertAccount('la', { sub: dan, oid: `oid-${dan}`, email: `${dan}@corp.test` });
      await c.scim.createUser({ userName: `${dan}@corp.test`, externalId: 'some-other-object-id', active: true });
      expect((await h.login(new Browser(), customerId, dan, 1)).status).toBe(403);
      // Polled: the refusing instance flushes on a timer, and a fixed wait failed on a loop stalled past it.
      const refusedLogins = await vi.waitFor(
        async () => {
          const { refusedLogins: listed } = await (await h.instance(0)).sso.activity(customerId);
          expect(listed).toHaveLength(1);
          return listed;
        },
        { timeout: 5_000, interval: 20 },
      );
      expect(refusedLogins[0]).toMatchObject({ reason: 'not_provisioned', strategy: 'OidcSubToScimExternalId' });
      expect(refusedLogins[0]!.hint).toMatch(/externalId ← objectId/);
    });
  });
});
