/**
 * Every guard outcome for every SAML matching strategy, through a real SAML login: the in-process samlify
 * IdP (test/support/saml-idp.ts), the app's passport + session, `sso.authRoutes` (login step and ACS), and
 * `/me` behind `requireActiveUser`; on both stores and both adapters. Also the defaults by IdP type
 * (Entra-style and Okta-style assertions), the SSO user records and the matching report of a SAML customer.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ENTRA_EMAIL_ATTRIBUTE, ENTRA_OBJECT_ID_ATTRIBUTE } from '../../src/index.js';
import type { SamlMatchingStrategy } from '../../src/match/strategies.js';
import { STORE_KINDS } from '../support/app.js';
import { Browser } from '../support/browser.js';
import { NAMEID_EMAIL, NAMEID_PERSISTENT, type SamlAnswer } from '../support/saml-idp.js';
import { ADAPTERS, provisionFor, startLoginHarness, type LoginHarness, type Outcome } from './harness.js';
import { postToAcs, samlCustomer, samlLogin, samlPaths, startSamlLogin, type SamlCustomer } from './saml-harness.js';

/** What the IdP asserts for a person, and the SCIM user(s) provisioned for them. */
interface Person {
  answer: SamlAnswer;
  users: Array<Record<string, unknown>>;
  email: string | null;
}

/**
 * Per strategy, a person keyed by `k` whose SCIM user matches under THAT strategy only (the other values
 * point elsewhere), so a guard applying the wrong strategy would answer not_provisioned for the admitted row.
 */
const PEOPLE: Record<SamlMatchingStrategy, (k: string, outcome: Outcome) => Person> = {
  SamlNameIdToScimUsername: (k) => ({
    answer: { nameId: `NameId.${k}@idp.test`, attributes: { email: `other.${k}@idp.test`, externalId: `not-${k}` } },
    users: [{ userName: `NAMEID.${k.toUpperCase()}@IDP.TEST`, externalId: `nameid-ext-${k}` }],
    email: `other.${k}@idp.test`,
  }),
  SamlNameIdToScimExternalId: (k, outcome) => ({
    answer: { nameId: `ext-${k}`, nameIdFormat: NAMEID_PERSISTENT, attributes: { email: `mail.${k}@idp.test` } },
    users:
      outcome === 'ambiguous'
        ? [
            { userName: `first.${k}@scim.test`, externalId: `ext-${k}` },
            { userName: `second.${k}@scim.test`, externalId: `ext-${k}` },
          ]
        : [{ userName: `person.${k}@scim.test`, externalId: `ext-${k}` }],
    email: `mail.${k}@idp.test`,
  }),
  SamlEmailToScimUsername: (k) => ({
    answer: { nameId: `persistent-${k}`, nameIdFormat: NAMEID_PERSISTENT, attributes: { email: `Email.${k}@Corp.Test` } },
    users: [{ userName: `email.${k}@corp.test`, externalId: `persistent-${k}-other` }],
    email: `Email.${k}@Corp.Test`,
  }),
  SamlAttributeToScimExternalId: (k, outcome) => ({
    answer: { nameId: `attr.${k}@idp.test`, attributes: { externalId: `oid-${k}`, email: `attr.${k}@idp.test` } },
    users:
      outcome === 'ambiguous'
        ? [
            { userName: `one.${k}@scim.test`, externalId: `oid-${k}` },
            { userName: `two.${k}@scim.test`, externalId: `oid-${k}` },
          ]
        : [{ userName: `someone.${k}@scim.test`, externalId: `oid-${k}` }],
    email: `attr.${k}@idp.test`,
  }),
};

const STRATEGIES = Object.keys(PEOPLE) as SamlMatchingStrategy[];
const BASIC: Outcome[] = ['admitted', 'deactivated', 'deleted', 'not_provisioned'];
const AMBIGUOUS_STRATEGIES: SamlMatchingStrategy[] = ['SamlNameIdToScimExternalId', 'SamlAttributeToScimExternalId'];
const TABLE = [
  ...STRATEGIES.flatMap((strategy) => BASIC.map((outcome) => ({ strategy, outcome }))),
  ...AMBIGUOUS_STRATEGIES.map((strategy) => ({ strategy, outcome: 'ambiguous' as Outcome })),
];

describe.each(STORE_KINDS)('SAML login outcomes (%s store)', (storeKind) => {
  describe.each(ADAPTERS)('%s adapter', (adapter) => {
    let h: LoginHarness;
    const customers = new Map<SamlMatchingStrategy, SamlCustomer>();

    beforeAll(async () => {
      h = await startLoginHarness({ store: storeKind, adapter, hint: `saml-outcomes-${adapter}` });
      for (const strategy of STRATEGIES) {
        customers.set(strategy, await samlCustomer(h, { customerId: `saml-${strategy}`, idpType: 'Generic', matchingStrategy: strategy }));
      }
    });
    afterAll(async () => {
      await h?.close();
    });
    afterEach(() => {
      expect(h.serverErrors.splice(0)).toEqual([]);
    });

    it.each(TABLE)('$strategy: $outcome', async ({ strategy, outcome }) => {
      const customer = customers.get(strategy)!;
      const person = PEOPLE[strategy](outcome.replace('_', ''), outcome);
      const scimUserId = await provisionFor(customer.scim, person.users, outcome);
      const browser = new Browser();
      const result = await samlLogin(h, browser, customer, person.answer);
      if (outcome === 'admitted') {
        const sessionUser = {
          customerId: customer.customerId,
          connectionId: customer.connectionId,
          scimUserId,
          userName: person.users[0]!.userName,
          subject: person.answer.nameId,
          email: person.email,
          groups: [],
          roles: [],
        };
        expect(result.status, JSON.stringify(result.body)).toBe(200);
        expect(result.url).toMatch(/\/me$/);
        expect(result.body).toEqual(sessionUser);
        expect((await h.me(browser)).body).toEqual(sessionUser);
      } else {
        expect(result.status, JSON.stringify(result.body)).toBe(403);
        expect(result.url).toContain(samlPaths.acs(customer.customerId));
        expect(result.body).toEqual({ error: 'ScimUserNotActive', reason: outcome });
        expect(await h.me(browser)).toMatchObject({ status: 401, body: { error: 'unauthenticated' } });
        // The customer's activity log lists the refusal, with a hint naming what the strategy compares.
        const [newest] = (await (await h.instance()).sso.activity(customer.customerId)).refusedLogins;
        expect(newest).toMatchObject({ outcome: 'refused', reason: outcome, strategy, subject: person.answer.nameId });
        expect(newest!.hint.length).toBeGreaterThan(20);
      }
      // Every attempt is recorded as an SSO user, as OIDC logins are.
      const recorded = await (await h.instance()).sso.listSsoUsers(customer.customerId);
      expect(recorded.find((u) => u.subject === person.answer.nameId)).toMatchObject({
        lastOutcome: outcome === 'admitted' ? 'admitted' : 'refused',
        lastReason: outcome === 'admitted' ? null : outcome,
      });
    });

    it('a login refused before any match (an assertion without a usable NameID) ends the session the browser had', async () => {
      // As a ScimUserNotActive refusal does: before, the session of whoever was logged in stayed.
      const customer = customers.get('SamlNameIdToScimUsername')!;
      const person = PEOPLE.SamlNameIdToScimUsername('kept', 'admitted');
      await provisionFor(customer.scim, person.users, 'admitted');
      const browser = new Browser();
      expect((await samlLogin(h, browser, customer, person.answer)).status).toBe(200);
      expect((await h.me(browser)).status).toBe(200);
      const refused = await samlLogin(h, browser, customer, { ...person.answer, nameId: ' ' });
      expect([refused.status, refused.body]).toMatchObject([401, { error: 'missing_claim' }]);
      expect(await h.me(browser)).toMatchObject({ status: 401, body: { error: 'unauthenticated' } });
    });

    it('a deactivation after login ends the session at the next request', async () => {
      const customer = customers.get('SamlNameIdToScimUsername')!;
      const person = PEOPLE.SamlNameIdToScimUsername('later', 'admitted');
      const id = (await provisionFor(customer.scim, person.users, 'admitted'))!;
      const browser = new Browser();
      expect((await samlLogin(h, browser, customer, person.answer)).status).toBe(200);
      await customer.scim.patch(id, [{ op: 'replace', path: 'active', value: false }]);
      expect(await h.me(browser)).toMatchObject({ status: 401, body: { error: 'ScimUserNotActive', reason: 'deactivated' } });
    });

    describe('defaults by idpType', () => {
      it('MicrosoftEntra: the objectidentifier attribute matches the SCIM externalId (Entra-style assertion)', async () => {
        const c = await samlCustomer(h, { customerId: 'saml-default-entra', idpType: 'MicrosoftEntra' });
        expect(c.connection).toMatchObject({ matchingStrategy: 'SamlAttributeToScimExternalId', matchAttribute: ENTRA_OBJECT_ID_ATTRIBUTE });
        const oid = '6f1c3b2a-0000-4000-8000-00000000c0de';
        const id = await c.scim.createUser({ userName: 'carol@entra.test', externalId: oid });
        const entraStyle = (nameId: string, objectId: string): SamlAnswer => ({
          nameId,
          nameIdFormat: NAMEID_EMAIL,
          attributes: {
            'http://schemas.microsoft.com/identity/claims/tenantid': 'tenant-guid',
            [ENTRA_OBJECT_ID_ATTRIBUTE]: objectId,
            [ENTRA_EMAIL_ATTRIBUTE]: nameId,
            'http://schemas.microsoft.com/identity/claims/displayname': 'Carol',
          },
        });
        const result = await samlLogin(h, new Browser(), c, entraStyle('carol@entra.test', oid));
        expect(result.status, JSON.stringify(result.body)).toBe(200);
        expect(result.body).toEqual({
          customerId: 'saml-default-entra',
          connectionId: c.connectionId,
          scimUserId: id,
          userName: 'carol@entra.test',
          subject: 'carol@entra.test',
          email: 'carol@entra.test',
          groups: [],
          roles: [],
        });
        // The same userName with another object id is someone else.
        await c.scim.createUser({ userName: 'dan@entra.test', externalId: 'dan-object-id' });
        const refused = await samlLogin(h, new Browser(), c, entraStyle('dan@entra.test', 'not-dans-object-id'));
        expect(refused).toMatchObject({ status: 403, body: { error: 'ScimUserNotActive', reason: 'not_provisioned' } });
      });

      it('Okta: the NameID (an email) matches the SCIM userName (Okta-style assertion)', async () => {
        const c = await samlCustomer(h, { customerId: 'saml-default-okta', idpType: 'Okta' });
        expect(c.connection.matchingStrategy).toBe('SamlNameIdToScimUsername');
        const id = await c.scim.createUser({ userName: 'olivia@okta.test', externalId: '00u-something' });
        const result = await samlLogin(h, new Browser(), c, {
          nameId: 'Olivia@Okta.Test',
          nameIdFormat: NAMEID_EMAIL,
          attributes: { email: 'Olivia@Okta.Test', firstName: 'Olivia' },
        });
        expect(result.status, JSON.stringify(result.body)).toBe(200);
        expect(result.body).toMatchObject({ scimUserId: id, userName: 'olivia@okta.test', subject: 'Olivia@Okta.Test', email: 'Olivia@Okta.Test' });
      });
    });

    it("the matching report evaluates the SAML strategies on the customer's SAML logins", async () => {
      const customer = customers.get('SamlAttributeToScimExternalId')!;
      const report = await (await h.instance()).sso.matchingReport(customer.customerId);
      expect(report.currentStrategy).toBe('SamlAttributeToScimExternalId');
      expect(report.strategies.map((s) => s.strategy)).toEqual(STRATEGIES);
      const current = report.strategies.find((s) => s.strategy === 'SamlAttributeToScimExternalId')!;
      // The admitted person of the table (if it ran first) and the later ones are all counted by the same rule.
      expect(current.admitted.count + current.inactive.count + current.deleted.count + current.affected.count + current.ambiguous.count).toBe(
        report.totals.ssoUsers,
      );
      expect(report.totals.ssoUsers).toBeGreaterThan(0);
    });

    it('refuses both steps with unsupported_strategy when the stored strategy is not a SAML one (no fallback)', async () => {
      const c = await samlCustomer(h, { customerId: 'saml-unknown-strategy', idpType: 'Okta' });
      await c.scim.createUser({ userName: 'uma@okta.test' });
      const browser = new Browser();
      const requestId = await startSamlLogin(h, browser, c);
      const stored = (await h.store.getSamlConnection(c.customerId))!;
      expect(await h.store.replaceSamlConnection({ ...stored, matchingStrategy: 'OidcEmailToScimUsername', updatedAt: new Date().toISOString() })).toBe(true);
      const { origin } = await h.instance();
      const login = await browser.fetch(`${origin}/sso/${c.customerId}/login`);
      expect(login.status).toBe(503);
      expect(await login.json()).toMatchObject({ error: 'unsupported_strategy' });
      const response = await c.idp.respond(c.sp, { nameId: 'uma@okta.test', inResponseTo: requestId });
      const acs = await postToAcs(h, browser, c, response);
      expect(acs).toMatchObject({ status: 503, body: { error: 'unsupported_strategy' } });
      expect(await h.me(browser)).toMatchObject({ status: 401 });
    });

    it('serves the SP metadata of a SAML customer, and 404 for others', async () => {
      const customer = customers.get('SamlNameIdToScimUsername')!;
      const { origin } = await h.instance();
      const response = await fetch(`${origin}${samlPaths.metadata(customer.customerId)}`);
      expect(response.status).toBe(200);
      // The same headers on every adapter: the type with its charset, no ETag of the framework's own.
      expect(response.headers.get('content-type')).toBe('application/samlmetadata+xml; charset=utf-8');
      expect(response.headers.get('etag')).toBeNull();
      const xml = await response.text();
      expect(xml).toContain(`entityID="${customer.sp.entityId}"`);
      expect(xml).toContain(`Location="${customer.sp.acsUrl}"`);
      expect(xml).toContain('WantAssertionsSigned="true"');
      const missing = await fetch(`${origin}${samlPaths.metadata('nobody-here')}`);
      expect(missing.status).toBe(404);
      expect(await missing.json()).toMatchObject({ error: 'unknown_customer' });
    });
  });
});
