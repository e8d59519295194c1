/**
 * Every guard outcome (docs/design-decisions.md §Guard outcomes) for every matching strategy, through a real login: the
 * demo IdP, the app's passport + session, `sso.authRoutes`, and `/me` behind `requireActiveUser`.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DemoAccount } from '../../example-app/demo-idp.js';
import type { MatchingStrategy } from '../../src/match/strategies.js';
import { STORE_KINDS } from '../support/app.js';
import { Browser } from '../support/browser.js';
import { ADAPTERS, PATHS, provisionFor, startLoginHarness, type Customer, type LoginHarness, type Outcome } from './harness.js';

/** An IdP account and the SCIM user(s) provisioned for it. */
interface Person {
  account: DemoAccount;
  /** One SCIM user, or several for the ambiguous case. */
  users: Array<Record<string, unknown>>;
}

/**
 * Per strategy, a person keyed by `k` whose SCIM user matches under THAT strategy only: the other claims
 * point elsewhere, so a guard applying the wrong strategy would answer not_provisioned for the admitted row.
 * Values differ in case on the two sides where the comparison is case-insensitive.
 */
const PEOPLE: Record<MatchingStrategy, (k: string, outcome: Outcome) => Person> = {
  OidcSubToScimUsername: (k) => ({
    account: { sub: `Sub.${k}`, email: `mail.${k}@idp.test`, email_verified: true, preferred_username: `pref.${k}` },
    users: [{ userName: `SUB.${k.toUpperCase()}`, externalId: `not-the-sub-${k}` }],
  }),
  OidcSubToScimExternalId: (k, outcome) => ({
    account: { sub: `ext-${k}`, email: `mail.${k}@idp.test`, email_verified: true },
    users:
      outcome === 'ambiguous'
        ? [
            { userName: `first.${k}@scim.test`, externalId: `ext-${k}` },
            { userName: `second.${k}@scim.test`, externalId: `ext-${k}` },
          ]
        : [{ userName: `person.${k}@scim.test`, externalId: `ext-${k}` }],
  }),
  OidcEmailToScimUsername: (k) => ({
    account: { sub: `email-sub-${k}`, email: `Email.${k}@Corp.Test`, email_verified: true, preferred_username: `pref.${k}` },
    users: [{ userName: `email.${k}@corp.test`, externalId: `email-sub-${k}-other` }],
  }),
  OidcEmailUsernameToScimUsername: (k, outcome) => ({
    account: { sub: `local-sub-${k}`, email: `local.${k}@idp.example`, email_verified: true },
    users: outcome === 'ambiguous' ? [{ userName: `Local.${k}@a.example` }, { userName: `local.${k}@B.example` }] : [{ userName: `Local.${k}@corp.example` }],
  }),
  OidcPreferredUsernameToScimUsername: (k) => ({
    account: { sub: `pref-sub-${k}`, email: `mail.${k}@idp.test`, email_verified: true, preferred_username: `Pref.${k}` },
    users: [{ userName: `PREF.${k}` }],
  }),
};

const STRATEGIES = Object.keys(PEOPLE) as MatchingStrategy[];
const BASIC: Outcome[] = ['admitted', 'deactivated', 'deleted', 'not_provisioned'];
/** Ambiguity is possible only where the SCIM side is not unique: externalId, and userName local parts. */
const AMBIGUOUS_STRATEGIES: MatchingStrategy[] = ['OidcSubToScimExternalId', 'OidcEmailUsernameToScimUsername'];

const TABLE: Array<{ strategy: MatchingStrategy; outcome: Outcome }> = [
  ...STRATEGIES.flatMap((strategy) => BASIC.map((outcome) => ({ strategy, outcome }))),
  ...AMBIGUOUS_STRATEGIES.map((strategy) => ({ strategy, outcome: 'ambiguous' as const })),
];

const SENTENCES: Record<Outcome, string> = {
  admitted: 'admits the active matching SCIM user with the default session user',
  deactivated: 'refuses a deactivated match with reason deactivated',
  deleted: 'refuses a match that SCIM deleted with reason deleted',
  not_provisioned: 'refuses a person with no SCIM user with reason not_provisioned',
  ambiguous: 'refuses a person matching two SCIM users with reason ambiguous',
};

const customerIdOf = (strategy: MatchingStrategy) => `outcomes-${strategy}`;

describe.each(STORE_KINDS)('login outcomes (%s store)', (storeKind) => {
  describe.each(ADAPTERS)('%s adapter', (adapter) => {
    let h: LoginHarness;
    const customers = new Map<MatchingStrategy, Customer>();

    beforeAll(async () => {
      h = await startLoginHarness({ store: storeKind, adapter, hint: `outcomes-${adapter}` });
      for (const strategy of STRATEGIES) {
        customers.set(strategy, await h.customer({ customerId: customerIdOf(strategy), tenant: 'outcomes', idpType: 'Generic', matchingStrategy: strategy }));
      }
    });
    afterAll(async () => {
      await h?.close();
    });
    afterEach(() => {
      // Taken, not just read: an error fails the test that caused it, not every test after it.
      expect({ server: h.serverErrors.splice(0), idp: h.idp.errors.splice(0) }).toEqual({ server: [], idp: [] });
    });

    /** Provisions `person` as the outcome requires; returns the id of the (last) SCIM user created. */
    async function provision(customer: Customer, person: Person, outcome: Outcome): Promise<string | null> {
      h.idp.upsertAccount(customer.tenant, person.account);
      return provisionFor(customer.scim, person.users, outcome);
    }

    it.each(TABLE.map((row) => ({ ...row, what: SENTENCES[row.outcome] })))('$strategy $what', async ({ strategy, outcome }) => {
      const customer = customers.get(strategy)!;
      const person = PEOPLE[strategy](`${outcome.replace('_', '')}`, outcome);
      const scimUserId = await provision(customer, person, outcome);
      const browser = new Browser();
      const result = await h.login(browser, customer.customerId, person.account.sub);

      if (outcome === 'admitted') {
        const sessionUser = {
          customerId: customer.customerId,
          connectionId: customer.connectionId,
          scimUserId,
          userName: person.users[0]!.userName,
          subject: person.account.sub,
          email: person.account.email,
          groups: [],
          roles: [],
        };
        expect(result.status, JSON.stringify(result.body)).toBe(200);
        expect(result.url).toMatch(/\/me$/);
        expect(result.body).toEqual(sessionUser);
        const me = await h.me(browser);
        expect(me.status).toBe(200);
        expect(me.body).toEqual(sessionUser);
      } else {
        expect(result.status, JSON.stringify(result.body)).toBe(403);
        expect(result.url).toContain(`/sso/${customer.customerId}/callback?`);
        expect(result.body).toEqual({ error: 'ScimUserNotActive', reason: outcome });
        // A refused login leaves no session behind.
        expect(await h.me(browser)).toMatchObject({ status: 401, body: { error: 'unauthenticated' } });
      }
    });

    describe('email_verified: false never matches on the email strategies', () => {
      it.each(['OidcEmailToScimUsername', 'OidcEmailUsernameToScimUsername'] as const)('%s', async (strategy) => {
        const customer = customers.get(strategy)!;
        const unverified = PEOPLE[strategy]('unverified', 'admitted');
        unverified.account.email_verified = false;
        await provision(customer, unverified, 'admitted');
        const refused = await h.login(new Browser(), customer.customerId, unverified.account.sub);
        expect(refused.status).toBe(403);
        expect(refused.body).toEqual({ error: 'ScimUserNotActive', reason: 'not_provisioned' });

        // The same shape without the claim is admitted: only an explicit `false` disqualifies the email.
        const unstated = PEOPLE[strategy]('unstated', 'admitted');
        delete unstated.account.email_verified;
        await provision(customer, unstated, 'admitted');
        const admitted = await h.login(new Browser(), customer.customerId, unstated.account.sub);
        expect(admitted.status, JSON.stringify(admitted.body)).toBe(200);
        expect(admitted.body).toMatchObject({ subject: unstated.account.sub, email: unstated.account.email });
      });

      it('hands the app no unverified email when a strategy on the subject admits the person', async () => {
        // Found by an audit (2026-12-07): the session user's email was the claim as typed, which an app that
        // links accounts by email would have trusted.
        const customer = customers.get('OidcSubToScimExternalId')!;
        const person = PEOPLE.OidcSubToScimExternalId('unverified-mail', 'admitted');
        person.account.email_verified = false;
        await provision(customer, person, 'admitted');
        const admitted = await h.login(new Browser(), customer.customerId, person.account.sub);
        expect(admitted.status, JSON.stringify(admitted.body)).toBe(200);
        expect(admitted.body).toMatchObject({ subject: person.account.sub, email: null });
      });
    });

    it('ends the session the browser had when it refuses who logged in before any match (outside_tenant, missing_claim)', async () => {
      // As a ScimUserNotActive refusal does (the table above): before, alice stayed logged in.
      const tenantBound = await h.customer({ customerId: `ends-tenant-${adapter}`, tenant: 'outcomes', idpType: 'Generic' });
      await (await h.instance(0)).sso.updateOidcClient(tenantBound.customerId, { requiredClaims: { hd: ['corp.example'] } });
      const onEmployeeId = await h.customer({
        customerId: `ends-claim-${adapter}`,
        tenant: 'outcomes',
        idpType: 'Generic',
        matchingStrategy: 'OidcSubToScimExternalId',
        subjectClaim: 'employee_id',
      });
      h.idp.upsertAccount('outcomes', {
        sub: `ends-alice-${adapter}`,
        email: `ends.alice.${adapter}@corp.example`,
        email_verified: true,
        hd: 'corp.example',
        employee_id: `e-${adapter}`,
      } as never);
      h.idp.upsertAccount('outcomes', {
        sub: `ends-mallory-${adapter}`,
        email: `ends.mallory.${adapter}@corp.example`,
        email_verified: true,
        hd: 'other.example',
      } as never);
      await tenantBound.scim.createUser({ userName: `ends.alice.${adapter}@corp.example` });
      await onEmployeeId.scim.createUser({ userName: `ends.alice.${adapter}@corp.example`, externalId: `e-${adapter}` });
      for (const [customer, code, status] of [
        [tenantBound, 'outside_tenant', 403],
        [onEmployeeId, 'missing_claim', 401],
      ] as const) {
        const browser = new Browser();
        expect((await h.login(browser, customer.customerId, `ends-alice-${adapter}`)).status).toBe(200);
        expect((await h.me(browser)).status).toBe(200);
        const refused = await h.login(browser, customer.customerId, `ends-mallory-${adapter}`);
        expect([refused.status, refused.body]).toMatchObject([status, { error: code }]);
        expect(await h.me(browser)).toMatchObject({ status: 401, body: { error: 'unauthenticated' } });
      }
    });

    describe('comparison rules', () => {
      it('OidcEmailUsernameToScimUsername matches a userName without a domain by its whole value', async () => {
        const customer = customers.get('OidcEmailUsernameToScimUsername')!;
        h.idp.upsertAccount(customer.tenant, { sub: 'nodomain-sub', email: 'Pat.NoDomain@idp.example', email_verified: true });
        const id = await customer.scim.createUser({ userName: 'pat.nodomain' });
        const result = await h.login(new Browser(), customer.customerId, 'nodomain-sub');
        expect(result.status, JSON.stringify(result.body)).toBe(200);
        expect(result.body).toMatchObject({ scimUserId: id, userName: 'pat.nodomain' });
      });

      it('OidcEmailUsernameToScimUsername refuses as ambiguous a deactivated user beside an active one of another domain', async () => {
        // Two people share the local part: the person whose own SCIM user is deactivated must not come in as the
        // other (an inactive match beside an active one is history only where the SCIM side is one person's).
        const customer = customers.get('OidcEmailUsernameToScimUsername')!;
        h.idp.upsertAccount(customer.tenant, { sub: 'shared-local-sub', email: 'shared.local@corp.example', email_verified: true });
        const own = await customer.scim.createUser({ userName: 'shared.local@corp.example' });
        await customer.scim.createUser({ userName: 'shared.local@subsidiary.example' });
        expect(await h.login(new Browser(), customer.customerId, 'shared-local-sub')).toMatchObject({
          status: 403,
          body: { error: 'ScimUserNotActive', reason: 'ambiguous' },
        });
        await customer.scim.patch(own, [{ op: 'replace', path: 'active', value: false }]);
        expect(await h.login(new Browser(), customer.customerId, 'shared-local-sub')).toMatchObject({
          status: 403,
          body: { error: 'ScimUserNotActive', reason: 'ambiguous' },
        });
      });

      it('OidcSubToScimExternalId compares case-exactly (RFC 7643 §3.1)', async () => {
        const customer = customers.get('OidcSubToScimExternalId')!;
        h.idp.upsertAccount(customer.tenant, { sub: 'CaseExactSub', email: 'case@idp.test', email_verified: true });
        await customer.scim.createUser({ userName: 'case-exact@scim.test', externalId: 'caseexactsub' });
        const result = await h.login(new Browser(), customer.customerId, 'CaseExactSub');
        expect(result).toMatchObject({ status: 403, body: { error: 'ScimUserNotActive', reason: 'not_provisioned' } });
      });
    });

    describe('default strategy per idpType', () => {
      it('Okta matches the email to the SCIM userName', async () => {
        const c = await h.customer({ customerId: 'default-okta', tenant: 'okta', idpType: 'Okta' });
        await expect((await h.instance()).sso.fetchOidcClient('default-okta')).resolves.toMatchObject({
          matchingStrategy: 'OidcEmailToScimUsername',
          subjectClaim: 'sub',
        });
        h.idp.upsertAccount('okta', { sub: '00u-okta-sub', email: 'Olivia@Okta.Test', email_verified: true, preferred_username: 'olivia' });
        const id = await c.scim.createUser({ userName: 'olivia@okta.test', externalId: '00u-something-else' });
        const browser = new Browser();
        const result = await h.login(browser, c.customerId, '00u-okta-sub');
        expect(result.status, JSON.stringify(result.body)).toBe(200);
        expect(result.body).toEqual({
          customerId: 'default-okta',
          connectionId: c.connectionId,
          scimUserId: id,
          userName: 'olivia@okta.test',
          subject: '00u-okta-sub',
          email: 'Olivia@Okta.Test',
          groups: [],
          roles: [],
        });
      });

      it("an Okta tile's initiate-login request (iss, target_link_uri) logs in as the login URL does", async () => {
        const c = await h.customer({ customerId: 'okta-tile', tenant: 'okta', idpType: 'Okta' });
        h.idp.upsertAccount('okta', { sub: '00u-tile', email: 'tile@okta.test', email_verified: true });
        await c.scim.createUser({ userName: 'tile@okta.test' });
        const { origin } = await h.instance();
        // login_hint only picks the demo IdP's account (a person at a real IdP is signed in already).
        const query = new URLSearchParams({ iss: h.idp.issuer('okta'), target_link_uri: `${origin}/somewhere`, login_hint: '00u-tile' });
        const browser = new Browser();
        const result = await browser.navigate(`${origin}${PATHS.login(c.customerId)}?${query}`);
        expect(result.response.status).toBe(200);
        expect(await result.response.json()).toMatchObject({ customerId: 'okta-tile', userName: 'tile@okta.test', subject: '00u-tile' });
      });

      it('MicrosoftEntra matches the oid claim (not the pairwise sub) to the SCIM externalId', async () => {
        const c = await h.customer({ customerId: 'default-entra', tenant: 'entra', idpType: 'MicrosoftEntra' });
        const oid = '6f1c3b2a-0000-4000-8000-00000000c0de';
        h.idp.upsertAccount('entra', { sub: 'pairwise-sub-carol', oid, tid: 'tenant-guid', email: 'carol@entra.test', preferred_username: 'carol@entra.test' });
        const id = await c.scim.createUser({ userName: 'carol@entra.test', externalId: oid });
        const browser = new Browser();
        const result = await h.login(browser, c.customerId, 'pairwise-sub-carol');
        expect(result.status, JSON.stringify(result.body)).toBe(200);
        expect(result.body).toEqual({
          customerId: 'default-entra',
          connectionId: c.connectionId,
          scimUserId: id,
          userName: 'carol@entra.test',
          subject: oid,
          email: 'carol@entra.test',
          groups: [],
          roles: [],
        });

        // A SCIM user whose externalId is the pairwise `sub` (what Entra never sends) does not match.
        h.idp.upsertAccount('entra', { sub: 'pairwise-sub-dan', oid: 'dan-object-id', email: 'dan@entra.test' });
        await c.scim.createUser({ userName: 'dan@entra.test', externalId: 'pairwise-sub-dan' });
        const refused = await h.login(new Browser(), c.customerId, 'pairwise-sub-dan');
        expect(refused.status).toBe(403);
        expect(refused.body).toEqual({ error: 'ScimUserNotActive', reason: 'not_provisioned' });
      });
    });

    describe('claimsSource on an IdP that puts email only in userinfo', () => {
      it("'auto' fetches userinfo and matches by email", async () => {
        const c = await h.customer({
          customerId: 'claims-auto',
          tenant: 'userinfo-idp',
          tenantOptions: { claimsIn: 'userinfo' },
          idpType: 'Generic',
          claimsSource: 'auto',
        });
        h.idp.upsertAccount('userinfo-idp', { sub: 'ui-sub-1', email: 'uma@userinfo.test', email_verified: true, preferred_username: 'uma' });
        const id = await c.scim.createUser({ userName: 'uma@userinfo.test' });
        const result = await h.login(new Browser(), c.customerId, 'ui-sub-1');
        expect(result.status, JSON.stringify(result.body)).toBe(200);
        expect(result.body).toMatchObject({ customerId: 'claims-auto', scimUserId: id, subject: 'ui-sub-1', email: 'uma@userinfo.test' });
      });

      it("'id_token' reads only the ID token: the email is missing, so nobody matches", async () => {
        const c = await h.customer({
          customerId: 'claims-idtoken',
          tenant: 'userinfo-idp',
          tenantOptions: { claimsIn: 'userinfo' },
          idpType: 'Generic',
          claimsSource: 'id_token',
        });
        h.idp.upsertAccount('userinfo-idp', { sub: 'ui-sub-2', email: 'ivan@userinfo.test', email_verified: true });
        await c.scim.createUser({ userName: 'ivan@userinfo.test' });
        const result = await h.login(new Browser(), c.customerId, 'ui-sub-2');
        expect(result.status).toBe(403);
        expect(result.body).toEqual({ error: 'ScimUserNotActive', reason: 'not_provisioned' });
      });
    });
  });
});
