/**
 * The audit trail of the login guard: every decision (admitted, refused, failed) and every session the
 * guard ends is one structured event, with the customer, connection, subject and strategy — and never a
 * token or a client secret.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/index.js';
import { ADAPTERS } from '../support/adapters.js';
import { STORE_KINDS } from '../support/app.js';
import { Browser } from '../support/browser.js';
import { startLoginHarness, uid, type LoginHarness } from './harness.js';

describe.each(STORE_KINDS)('login audit events (%s store)', (storeKind) => {
  describe.each(ADAPTERS)('%s adapter', (adapter) => {
    let h: LoginHarness;
    const events: AuditEvent[] = [];
    beforeAll(async () => {
      h = await startLoginHarness({ store: storeKind, adapter, hint: `audit-${adapter}`, onEvent: (event) => events.push(event) });
    });
    afterAll(async () => {
      await h?.close();
    });
    afterEach(() => {
      expect({ server: h.serverErrors.splice(0), idp: h.idp.errors.splice(0) }).toEqual({ server: [], idp: [] });
    });

    it('emits login.admitted, login.refused and session.ended with who, what and why, and no secret', async () => {
      const customerId = `audit-${uid()}`;
      const c = await h.customer({ customerId, tenant: 'audit', idpType: 'Okta' });
      const [ann, ben] = [`${customerId}-ann`, `${customerId}-ben`];
      h.idp.upsertAccount('audit', { sub: ann, email: `${ann}@corp.test`, email_verified: true });
      h.idp.upsertAccount('audit', { sub: ben, email: `${ben}@corp.test`, email_verified: true });
      const annId = await c.scim.createUser({ userName: `${ann}@corp.test`, active: true });
      events.length = 0;

      const browser = new Browser();
      expect((await h.login(browser, customerId, ann)).status).toBe(200);
      expect((await h.login(new Browser(), customerId, ben)).status).toBe(403);
      await c.scim.patch(annId, [{ op: 'replace', path: 'active', value: false }]);
      expect((await h.me(browser)).status).toBe(401);

      const mine = events.filter((e) => e.customerId === customerId);
      expect(mine.map((e) => e.type)).toEqual(['login.admitted', 'login.refused', 'user.deactivated', 'session.ended']);
      expect(mine[0]).toMatchObject({
        actor: 'login',
        outcome: 'success',
        connectionId: c.connectionId,
        subject: ann,
        strategy: 'OidcEmailToScimUsername',
        resourceId: annId,
      });
      expect(mine[1]).toMatchObject({ actor: 'login', outcome: 'failure', subject: ben, reason: 'not_provisioned' });
      expect(mine[3]).toMatchObject({ actor: 'session', reason: 'deactivated', resourceId: annId });
      const all = JSON.stringify(events);
      expect(all).not.toContain(c.clientSecret);
      expect(all).not.toContain(c.token!);
      expect(all).not.toMatch(/eyJ[\w-]+\.eyJ/); // no JWT (ID or access token)
    });
  });
});
