/**
 * Claims through a real login: `email_verified` counts only when true or "true" (any case), look-alike
 * emails and usernames never match the ASCII SCIM user they imitate, and `requireVerifiedEmail` (instance
 * default, overridden per OIDC client) makes an absent `email_verified` count as unverified.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { MatchingStrategy } from '../../src/match/strategies.js';
import { STORE_KINDS } from '../support/app.js';
import { Browser } from '../support/browser.js';
import { ADAPTERS, startLoginHarness, uid, type LoginHarness } from './harness.js';

const NOT_PROVISIONED = { status: 403, body: { error: 'ScimUserNotActive', reason: 'not_provisioned' } };

describe.each(STORE_KINDS)('claims at login (%s store)', (storeKind) => {
  describe.each(ADAPTERS)('%s adapter', (adapter) => {
    let h: LoginHarness;
    // The instance default is requireVerifiedEmail: true, so both the default and the per-client override show.
    beforeAll(async () => {
      h = await startLoginHarness({ store: storeKind, adapter, hint: `claims-${adapter}`, ssoOptions: { requireVerifiedEmail: true } });
    });
    afterAll(async () => {
      await h?.close();
    });
    afterEach(() => {
      expect({ server: h.serverErrors.splice(0), idp: h.idp.errors.splice(0) }).toEqual({ server: [], idp: [] });
    });

    /** A customer with one SCIM user `<local>@corp.test`; returns a function logging in a person with the given claims. */
    async function customer(name: string, matchingStrategy: MatchingStrategy, requireVerifiedEmail?: boolean | null) {
      const customerId = `${name}-${uid()}`;
      const c = await h.customer({ customerId, tenant: 'claims', idpType: 'Generic', matchingStrategy });
      if (requireVerifiedEmail !== undefined) await (await h.instance(0)).sso.updateOidcClient(customerId, { requireVerifiedEmail });
      const userName = `${customerId}@corp.test`;
      const id = await c.scim.createUser({ userName });
      let n = 0;
      const login = async (claims: Record<string, unknown>) => {
        const sub = `${customerId}-${n++}`;
        h.idp.upsertAccount('claims', { sub, ...claims } as Parameters<typeof h.idp.upsertAccount>[1]);
        return h.login(new Browser(), customerId, sub);
      };
      return { customerId, userName, id, login };
    }

    it('email_verified other than true or "true" refuses an email match; "TRUE" and true admit', async () => {
      const c = await customer('verified', 'OidcEmailToScimUsername', false);
      for (const value of ['FALSE', 'false', 0, 1, 'yes', null]) {
        expect(await c.login({ email: c.userName, email_verified: value }), JSON.stringify(value)).toMatchObject(NOT_PROVISIONED);
      }
      for (const value of [true, 'TRUE', 'true']) {
        expect(await c.login({ email: c.userName, email_verified: value }), JSON.stringify(value)).toMatchObject({ status: 200, body: { scimUserId: c.id } });
      }
    });

    it('look-alike emails (Kelvin sign, İ, BOM, no-break space, zero-width joiner) never match the ASCII SCIM userName', async () => {
      const c = await customer('lookalike', 'OidcEmailToScimUsername', false);
      const [local, domain] = c.userName.split('@') as [string, string];
      // The control: ASCII case and edge spaces still fold, so the real address in capitals is admitted.
      expect(await c.login({ email: ` ${c.userName.toUpperCase()} `, email_verified: true })).toMatchObject({ status: 200, body: { scimUserId: c.id } });
      const imitations = [
        c.userName.replace('k', '\u212A'), // Kelvin sign
        c.userName.replace('i', '\u0130'), // İ
        `\uFEFF${c.userName}`, // BOM
        `${local}\u00A0@${domain}`, // no-break space
        c.userName.replace('ook', 'o\u200Dok'), // zero-width joiner
      ];
      for (const email of imitations) {
        expect(email).not.toBe(c.userName);
        expect(await c.login({ email, email_verified: true }), JSON.stringify(email)).toMatchObject(NOT_PROVISIONED);
      }
    });

    it('a look-alike preferred_username does not match either', async () => {
      const c = await customer('preferred', 'OidcPreferredUsernameToScimUsername');
      expect(await c.login({ preferred_username: c.userName.toUpperCase() })).toMatchObject({ status: 200, body: { scimUserId: c.id } });
      expect(await c.login({ preferred_username: `\uFEFF${c.userName}` })).toMatchObject(NOT_PROVISIONED);
      expect(await c.login({ preferred_username: c.userName.replace('p', '\u0440') })).toMatchObject(NOT_PROVISIONED); // Cyrillic er
    });

    it('requireVerifiedEmail from the instance (client null): an absent email_verified is unverified for both email strategies', async () => {
      for (const strategy of ['OidcEmailToScimUsername', 'OidcEmailUsernameToScimUsername'] as const) {
        const c = await customer('instance-default', strategy);
        expect((await (await h.instance(0)).sso.fetchOidcClient(c.customerId))?.requireVerifiedEmail).toBeNull();
        expect(await c.login({ email: c.userName })).toMatchObject(NOT_PROVISIONED);
        expect(await c.login({ email: c.userName, email_verified: true })).toMatchObject({ status: 200, body: { scimUserId: c.id } });
      }
    });

    it("a client's requireVerifiedEmail: false wins over the instance default (an Entra customer: the claim is never sent)", async () => {
      const c = await customer('client-off', 'OidcEmailToScimUsername', false);
      expect(await c.login({ email: c.userName })).toMatchObject({ status: 200, body: { scimUserId: c.id } });
      // absent is fine, but a present non-true value is still unverified
      expect(await c.login({ email: c.userName, email_verified: 'FALSE' })).toMatchObject(NOT_PROVISIONED);
      // the matching report applies the same policy as the guard
      const report = await (await h.instance(0)).sso.matchingReport(c.customerId);
      const byEmail = report.strategies.find((s) => s.strategy === 'OidcEmailToScimUsername')!;
      expect(byEmail.admitted.examples.map((a) => a.scimUser.id)).toEqual([c.id]);
    });

    it('the matching report follows requireVerifiedEmail like the guard does', async () => {
      const c = await customer('report', 'OidcEmailToScimUsername');
      expect(await c.login({ email: c.userName })).toMatchObject(NOT_PROVISIONED);
      const report = await (await h.instance(0)).sso.matchingReport(c.customerId);
      const byEmail = report.strategies.find((s) => s.strategy === 'OidcEmailToScimUsername')!;
      expect(byEmail.admitted).toEqual({ count: 0, examples: [] });
      expect(report.warnings.some((w) => w.includes('no email_verified claim'))).toBe(true);
    });
  });
});
