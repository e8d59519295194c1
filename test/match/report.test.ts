import { describe, expect, it } from 'vitest';
import { buildMatchingReport, unmatchedBySomeStrategy, type ReportInput } from '../support/report-in-memory.js';
import { AMBIGUOUS_LISTED, lookupKey, REPORT_EXAMPLES } from '../../src/match/report.js';
import { fold, localPart } from '../../src/fold.js';
import { shownCandidateOf } from '../../src/guard/guard.js';
import { matchingReport, REPORT_PAGE } from '../../src/matching-report.js';
import { userSpec } from '../../src/scim/users.js';
import { makeStore, STORE_KINDS } from '../support/app.js';
import { aroundStoreCalls, recordStoreCalls } from '../support/store-calls.js';
import { scimSso } from '../support/sso.js';
import type { ScimCandidate } from '../../src/match/strategies.js';
import { type PickedPage, type Store, type StoredSsoUser } from '../../src/store/store.js';
import { MAX_CURSOR_PAGE } from '../../src/store/store-checks.js';
import { bodyText } from '../../src/scim/response-body.js';

const sso = (over: Partial<StoredSsoUser> & { subject: string }): StoredSsoUser => ({
  email: null,
  emailVerified: null,
  preferredUsername: null,
  name: null,
  claims: {},
  firstSeenAt: '2026-11-01T00:00:00.000Z',
  lastSeenAt: '2026-11-01T00:00:00.000Z',
  lastOutcome: 'refused',
  lastReason: 'not_provisioned',
  lastScimUserId: null,
  ...over,
});
const scim = (over: Partial<ScimCandidate> & { id: string; userName: string }): ScimCandidate => ({ externalId: null, active: true, ...over });

const input = (over: Partial<ReportInput>): ReportInput => ({
  customerId: 'c',
  currentStrategy: 'OidcEmailToScimUsername',
  idpType: 'Okta',
  subjectClaim: 'sub',
  ssoUsers: [],
  scimUsers: [],
  ...over,
});

const counts = (report: ReturnType<typeof buildMatchingReport>) =>
  Object.fromEntries(report.strategies.map((s) => [s.strategy, [s.admitted.count, s.inactive.count, s.affected.count, s.ambiguous.count]]));

describe('the SCIM Matching report', () => {
  it("evaluates PropelAuth's John Doe pair under every strategy", () => {
    const report = buildMatchingReport(
      input({
        ssoUsers: [
          sso({ subject: '00utc0x6na8aflr0E697', email: 'john@acmeinc.com', emailVerified: true, preferredUsername: 'john@acmeinc.com', name: 'John Doe' }),
        ],
        scimUsers: [scim({ id: 'bd0b9f34-d4a2-41dc-a2d7-14bfd65c0df3', userName: 'john@acmeinc.com', externalId: '00utc0x6na8aflr0E697' })],
      }),
    );
    // [admitted, inactive, affected, ambiguous]
    expect(counts(report)).toEqual({
      OidcSubToScimUsername: [0, 0, 1, 0],
      OidcSubToScimExternalId: [1, 0, 0, 0],
      OidcEmailToScimUsername: [1, 0, 0, 0],
      OidcEmailUsernameToScimUsername: [1, 0, 0, 0],
      OidcPreferredUsernameToScimUsername: [1, 0, 0, 0],
    });
    expect(report.strategies[0]!.unmatchedScimUsers).toEqual({
      count: 1,
      examples: [{ id: 'bd0b9f34-d4a2-41dc-a2d7-14bfd65c0df3', userName: 'john@acmeinc.com', externalId: '00utc0x6na8aflr0E697', active: true }],
    });
    expect(report.strategies.slice(1).map((s) => s.unmatchedScimUsers.count)).toEqual([0, 0, 0, 0]);
    expect(report.recommendedStrategy).toBe('OidcEmailToScimUsername');
    expect(report.reason).toContain('current strategy');
  });

  it('recommends sub → externalId for an Entra directory where only the oid matches, and warns about sub', () => {
    // Entra: userNames are UPNs that differ from the emails, and the subject recorded is the oid.
    const ssoUsers = [1, 2, 3].map((i) =>
      sso({
        subject: `oid-${i}`,
        email: `person${i}@contoso.com`,
        preferredUsername: `p${i}@contoso.onmicrosoft.com`,
        claims: { sub: `pairwise-${i}`, oid: `oid-${i}` },
      }),
    );
    const scimUsers = [1, 2, 3].map((i) => scim({ id: `s${i}`, userName: `p${i}.upn@contoso.onmicrosoft.com`, externalId: `oid-${i}`, active: i !== 3 }));
    const report = buildMatchingReport(
      input({ idpType: 'MicrosoftEntra', subjectClaim: 'sub', currentStrategy: 'OidcSubToScimUsername', ssoUsers, scimUsers }),
    );
    expect(counts(report)).toEqual({
      OidcSubToScimUsername: [0, 0, 3, 0],
      OidcSubToScimExternalId: [2, 1, 0, 0],
      OidcEmailToScimUsername: [0, 0, 3, 0],
      OidcEmailUsernameToScimUsername: [0, 0, 3, 0],
      OidcPreferredUsernameToScimUsername: [0, 0, 3, 0],
    });
    expect(report.recommendedStrategy).toBe('OidcSubToScimExternalId');
    expect(report.reason).toContain('matches 3 of 3');
    expect(report.warnings.join(' ')).toContain('pairwise');
  });

  it('never recommends a strategy with ambiguous matches when a safe one exists', () => {
    const report = buildMatchingReport(
      input({
        currentStrategy: 'OidcEmailUsernameToScimUsername',
        ssoUsers: [sso({ subject: 's1', email: 'sam@new.example' }), sso({ subject: 's2', email: 'kim@new.example' })],
        scimUsers: [
          scim({ id: 'a', userName: 'sam@new.example' }),
          scim({ id: 'b', userName: 'sam@old.example' }),
          scim({ id: 'c', userName: 'kim@new.example' }),
        ],
      }),
    );
    const local = report.strategies.find((s) => s.strategy === 'OidcEmailUsernameToScimUsername')!;
    expect(local.ambiguous.count).toBe(1);
    expect(local.ambiguous.examples.map((a) => [a.matches, a.scimUsers.map((u) => u.id)])).toEqual([[2, ['a', 'b']]]);
    expect(report.recommendedStrategy).toBe('OidcEmailToScimUsername');
  });

  it('says there is nothing to recommend before anyone has logged in, and warns about missing emails and domains', () => {
    expect(buildMatchingReport(input({})).recommendedStrategy).toBeNull();
    const report = buildMatchingReport(input({ ssoUsers: [sso({ subject: 'x' })], scimUsers: [scim({ id: 'a', userName: 'jdoe' })] }));
    expect(report.warnings.some((w) => w.includes('no email claim'))).toBe(true);
    expect(report.warnings.some((w) => w.includes('no domain'))).toBe(true);
  });

  it('warns when the local-part strategy pairs an email with a userName in another domain', () => {
    const report = buildMatchingReport(
      input({
        currentStrategy: 'OidcEmailUsernameToScimUsername',
        ssoUsers: [sso({ subject: 'guest', email: 'alice@gmail.example' })],
        scimUsers: [scim({ id: 'a', userName: 'alice@corp.example' })],
      }),
    );
    expect(report.warnings.some((w) => w.includes('another domain'))).toBe(true);
    const sameDomain = buildMatchingReport(
      input({
        currentStrategy: 'OidcEmailUsernameToScimUsername',
        ssoUsers: [sso({ subject: 's', email: 'bob@corp.example' })],
        scimUsers: [scim({ id: 'b', userName: 'bob@corp.example' })],
      }),
    );
    expect(sameDomain.warnings.some((w) => w.includes('another domain'))).toBe(false);
  });

  it('counts every SSO user and SCIM user, but keeps REPORT_EXAMPLES examples: most recently seen first, first created', () => {
    const at = (i: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString();
    const ssoUsers = Array.from({ length: 120 }, (_, i) => sso({ subject: `s${i}`, email: `nobody${i}@x.example`, emailVerified: true, lastSeenAt: at(i) }));
    const scimUsers = Array.from({ length: 70 }, (_, i) => scim({ id: `id${i}`, userName: `u${i}@x.example` }));
    const report = buildMatchingReport(input({ ssoUsers: [...ssoUsers].reverse(), scimUsers }));
    const byEmail = report.strategies.find((s) => s.strategy === 'OidcEmailToScimUsername')!;
    expect(byEmail.affected.count).toBe(120);
    expect(byEmail.affected.examples.map((u) => u.subject)).toEqual(Array.from({ length: REPORT_EXAMPLES }, (_, i) => `s${119 - i}`));
    expect(byEmail.unmatchedScimUsers.count).toBe(70);
    expect(byEmail.unmatchedScimUsers.examples.map((u) => u.id)).toEqual(scimUsers.slice(0, REPORT_EXAMPLES).map((u) => u.id));
    expect(report.totals).toEqual({ ssoUsers: 120, scimUsers: 70 });
    expect(report.reason).toContain('matches 0 of 120');
  });

  it('counts a SCIM user that several SSO users match once, and lists at most AMBIGUOUS_LISTED per ambiguous example', () => {
    // The same person recorded under two subjects (the IdP recreated the account, or the subject claim changed).
    const ssoUsers = [
      sso({ subject: 'old-sub', email: 'ann@x.example', emailVerified: true }),
      sso({ subject: 'new-sub', email: 'ann@x.example', emailVerified: true }),
      sso({ subject: 'admin', email: 'admin@x.example', emailVerified: true }),
    ];
    const admins = Array.from({ length: 12 }, (_, i) => scim({ id: `admin${i}`, userName: `admin@d${i}.example` }));
    const scimUsers = [scim({ id: 'ann', userName: 'ann@x.example' }), scim({ id: 'bob', userName: 'bob@x.example' }), ...admins];
    const report = buildMatchingReport(input({ ssoUsers, scimUsers }));
    const byEmail = report.strategies.find((s) => s.strategy === 'OidcEmailToScimUsername')!;
    expect([byEmail.admitted.count, byEmail.affected.count, byEmail.unmatchedScimUsers.count]).toEqual([2, 1, 13]);
    const local = report.strategies.find((s) => s.strategy === 'OidcEmailUsernameToScimUsername')!;
    expect([local.admitted.count, local.ambiguous.count, local.unmatchedScimUsers.count]).toEqual([2, 1, 1]);
    expect(local.ambiguous.examples[0]).toMatchObject({ matches: 12, scimUsers: admins.slice(0, AMBIGUOUS_LISTED).map(({ id }) => ({ id })) });
    expect(local.unmatchedScimUsers.examples.map((u) => u.id)).toEqual(['bob']);
  });
});

describe('the matching report read from a store', () => {
  it('tells SSO users whose SCIM user was deleted apart from those never provisioned', async () => {
    const sso = scimSso();
    const { token } = await sso.createScimConnection({ customerId: 'r' });
    await sso.createOidcClient({
      customerId: 'r',
      idpType: 'Okta',
      issuer: 'https://idp.example.com',
      clientId: 'c',
      redirectUri: 'https://app.example.com/cb',
    });
    const scim = (method: string, path: string, body?: unknown) =>
      sso.handleScim({
        method,
        path,
        query: new URLSearchParams(),
        headers: { authorization: `Bearer ${token}` },
        body: body === undefined ? undefined : JSON.stringify(body),
        baseUrl: 'https://app.example.com/scim/v2',
      });
    const created = JSON.parse(bodyText((await scim('POST', '/Users', { userName: 'gone@corp.example' })).body)!) as { id: string };
    await scim('POST', '/Users', { userName: 'here@corp.example' });
    expect((await scim('DELETE', `/Users/${created.id}`)).status).toBe(204);
    for (const email of ['gone@corp.example', 'here@corp.example', 'never@corp.example']) {
      await sso.store.recordSsoUser('r', loggedIn(email));
    }
    const report = await sso.matchingReport('r');
    const byEmail = report.strategies.find((s) => s.strategy === 'OidcEmailToScimUsername')!;
    expect(byEmail.admitted.examples.map((a) => a.ssoUser.email)).toEqual(['here@corp.example']);
    expect(byEmail.deleted.examples.map((u) => u.email)).toEqual(['gone@corp.example']);
    expect(byEmail.affected.examples.map((u) => u.email)).toEqual(['never@corp.example']);
    expect([byEmail.admitted.count, byEmail.deleted.count, byEmail.affected.count]).toEqual([1, 1, 1]);
  });

  it('counts a login by a crowded value as ambiguous, as the guard refuses it', async () => {
    const app = scimSso({ quota: { maxResourcesPerValue: 2 } });
    const { token } = await app.createScimConnection({ customerId: 'crowd' });
    await app.createOidcClient({
      customerId: 'crowd',
      idpType: 'Okta',
      issuer: 'https://idp.example.com',
      clientId: 'c',
      redirectUri: 'https://app.example.com/cb',
    });
    // Three users share an externalId, one of them active: the value is crowded past the quota of 2.
    for (const [userName, active] of [
      ['a@corp.example', true],
      ['b@corp.example', false],
      ['c@corp.example', false],
    ] as const) {
      const created = await app.handleScim({
        method: 'POST',
        path: '/Users',
        query: new URLSearchParams(),
        headers: { authorization: `Bearer ${token}` },
        body: JSON.stringify({ userName, externalId: '00ushared', active }),
        baseUrl: 'https://app.example.com/scim/v2',
      });
      expect(created.status).toBe(201);
    }
    await app.store.recordSsoUser('crowd', sso({ subject: '00ushared', email: 'a@corp.example', emailVerified: true }));
    const report = await app.matchingReport('crowd');
    const bySub = report.strategies.find((s) => s.strategy === 'OidcSubToScimExternalId')!;
    const byEmail = report.strategies.find((s) => s.strategy === 'OidcEmailToScimUsername')!;
    expect([bySub.admitted.count, bySub.ambiguous.count]).toEqual([0, 1]);
    expect([byEmail.admitted.count, byEmail.ambiguous.count]).toEqual([1, 0]);
  });
});

describe.each(STORE_KINDS)('the matching report read from the %s store a page at a time', (kind) => {
  it('is the report over everything held in memory, read in pages and batches only', () =>
    withOktaCustomer(kind, 'pages', async ({ store, customerId, connectionId }) => {
      // 1,100 SCIM users: email matches, renamed users found by sub = externalId, deactivated ones, shared
      // local parts (ambiguous by local part), users nobody logs in as, and deleted ones (tombstones).
      const deleted: ScimCandidate[] = [];
      const write = (i: number) => {
        const kindOf = i % 10;
        const userName = kindOf === 3 ? `legacy${i}@old.example` : kindOf === 4 ? `shared@d${i}.example` : kindOf === 5 ? `idle${i}` : `p${i}@corp.example`;
        return userSpec.toWrite({ id: `u${i}`, userName, externalId: `00u${i}`, active: kindOf !== 2, emails: [{ value: `p${i}@corp.example` }] });
      };
      for (let i = 0; i < 1100; i += 100) {
        await Promise.all(Array.from({ length: 100 }, (_, k) => store.createResource(connectionId, write(i + k))));
      }
      for (let i = 6; i < 1100; i += 50) {
        expect(await store.deleteResource(connectionId, 'User', `u${i}`)).toBe(true);
        const { userName, externalId } = JSON.parse(write(i).json) as { userName: string; externalId: string };
        deleted.push({ id: `u${i}`, userName, externalId, active: true });
      }
      // 1,200 SSO users, some in the same second, some sharing an email, unverified, without email, or strangers.
      const ssoUsers = Array.from({ length: 1200 }, (_, i) =>
        sso({
          subject: `00u${i}`,
          email: i % 13 === 0 ? null : `p${i % 1150}@corp.example`,
          emailVerified: i % 17 === 0 ? false : i % 19 === 0 ? null : true,
          preferredUsername: i % 7 === 0 ? `legacy${i}@old.example` : `p${i}@corp.example`,
          lastSeenAt: new Date(Date.UTC(2026, 0, 1, 0, 0, Math.floor(i / 3))).toISOString(),
        }),
      );
      ssoUsers.push(sso({ subject: 'shared-local', email: 'shared@anywhere.example', emailVerified: true }));
      for (let i = 0; i < ssoUsers.length; i += 100) await Promise.all(ssoUsers.slice(i, i + 100).map((u) => store.recordSsoUser(customerId, u)));

      const pickedUsers: string[] = []; // the SCIM users the second pass read in full
      const counted = aroundStoreCalls(store, async (method, call) => {
        const result = await call();
        if (method === 'pickUsersAfter') pickedUsers.push(...(result as PickedPage).users.map((u) => u.id));
        return result;
      });
      const { store: watched, calls } = recordStoreCalls(counted);
      const report = await matchingReport(watched, customerId);

      const live = (await store.listPage(connectionId, 'User', 0, 2000)).resources.map(shownCandidateOf);
      const deletedLookups = new Set(
        deleted.flatMap((u) => [
          lookupKey('userName', fold(u.userName)),
          lookupKey('userNameLocal', fold(localPart(u.userName))),
          lookupKey('externalId', u.externalId!),
        ]),
      );
      const input: ReportInput = {
        customerId,
        currentStrategy: 'OidcEmailToScimUsername',
        idpType: 'Okta',
        subjectClaim: 'sub',
        policy: { requireVerifiedEmail: false },
        ssoUsers: await store.listSsoUsers(customerId),
        scimUsers: live.map(({ id, userName, externalId, active }) => ({ id, userName, externalId, active })),
        deletedLookups,
      };
      expect(report).toEqual(buildMatchingReport(input));
      // The data really exercises every category somewhere.
      const all = report.strategies.flatMap((s) => [s.admitted, s.inactive, s.deleted, s.affected, s.ambiguous, s.unmatchedScimUsers]);
      expect(all.every((c) => c.examples.length === Math.min(c.count, REPORT_EXAMPLES))).toBe(true);
      for (const category of ['admitted', 'inactive', 'deleted', 'affected', 'ambiguous', 'unmatchedScimUsers'] as const) {
        expect({ category, some: report.strategies.some((s) => s[category].count > 0) }).toEqual({ category, some: true });
      }
      expect(report.totals).toEqual({ ssoUsers: 1201, scimUsers: 1100 - deleted.length });

      // Pages and batches only: never a whole list, never more than a page's lookups in one call.
      const methods = new Set(calls.map((c) => c.method));
      expect([...methods].sort()).toEqual(['findUsersForLoginBatch', 'getCustomer', 'pickUsersAfter', 'scanSsoUsers']);
      const scans = calls.filter((c) => c.method === 'scanSsoUsers');
      expect(scans.length).toBeGreaterThanOrEqual(3);
      expect(scans.every((c) => c.args[2] === REPORT_PAGE)).toBe(true);
      const batches = calls.filter((c) => c.method === 'findUsersForLoginBatch');
      expect(batches.length).toBeLessThanOrEqual(scans.length);
      expect(batches.every((c) => (c.args[1] as unknown[]).length <= 5 * REPORT_PAGE)).toBe(true);
      // Without a role mapping no example has roles: the lookups read no groups, and large users as their
      // login projection (the report reads nothing else of them).
      expect(batches.map((c) => c.args[2])).toEqual(batches.map(() => ({ groups: false, projections: true })));
      // Each batch's scan is asked for before the previous batch's lookups, so it never waits behind them.
      const order = calls
        .filter((c) => c.method === 'scanSsoUsers' || c.method === 'findUsersForLoginBatch')
        .map((c) => (c.method === 'scanSsoUsers' ? 's' : 'f'));
      expect(order.join('')).toBe(`ss${'fs'.repeat(scans.length - 2)}ff`);
      // The second pass: positions MAX_CURSOR_PAGE at a time, and in full only the users some strategy left
      // unmatched (none read twice): the others were read when an SSO user matched them.
      const pages = Math.ceil((1100 - deleted.length) / MAX_CURSOR_PAGE);
      expect(calls.filter((c) => c.method === 'pickUsersAfter').map((c) => c.args[2])).toEqual(Array.from({ length: pages }, () => MAX_CURSOR_PAGE));
      const unmatchedBySome = unmatchedBySomeStrategy(input);
      expect(new Set(pickedUsers).size).toBe(pickedUsers.length);
      expect(pickedUsers.every((id) => unmatchedBySome.has(id))).toBe(true);
    }));
});

describe.each(STORE_KINDS)('the matching report on the %s store, second pass', (kind) => {
  it('reads in full only the SCIM users it shows, past a page of positions, and counts the others from their userNames', () =>
    withOktaCustomer(kind, 'sparse', async ({ store, customerId, connectionId }) => {
      // 4,500 SCIM users (five pages of positions): every 15th never signed in; each of the others is matched
      // by its SSO user under all five strategies (sub, email, its local part, preferred_username are its userName).
      // Every other one who never signed in has a userName without a domain.
      const userName = (i: number) => (i % 30 === 22 ? `P${i}` : `p${i}@corp.example`);
      const idle = new Set<string>();
      for (let i = 0; i < 4500; i += 100) {
        await Promise.all(
          Array.from({ length: 100 }, (_, k) =>
            store.createResource(connectionId, userSpec.toWrite({ id: `u${i + k}`, userName: userName(i + k), externalId: userName(i + k) })),
          ),
        );
      }
      const ssoUsers: StoredSsoUser[] = [];
      for (let i = 0; i < 4500; i++) {
        if (i % 15 === 7) idle.add(`u${i}`);
        else ssoUsers.push(sso({ subject: userName(i), email: userName(i), emailVerified: true, preferredUsername: userName(i) }));
      }
      for (let i = 0; i < ssoUsers.length; i += 100) await Promise.all(ssoUsers.slice(i, i + 100).map((u) => store.recordSsoUser(customerId, u)));

      const picked: string[] = [];
      const watched = aroundStoreCalls(store, async (method, call) => {
        const result = await call();
        if (method === 'pickUsersAfter') picked.push(...(result as PickedPage).users.map((u) => u.id));
        return result;
      });
      const report = await matchingReport(watched, customerId);

      expect(report.totals).toEqual({ ssoUsers: 4200, scimUsers: 4500 });
      for (const strategy of report.strategies) {
        expect({ strategy: strategy.strategy, admitted: strategy.admitted.count, unmatched: strategy.unmatchedScimUsers.count }).toEqual({
          strategy: strategy.strategy,
          admitted: 4200,
          unmatched: 300,
        });
        expect(strategy.unmatchedScimUsers.examples.map((u) => u.id)).toEqual([...idle].slice(0, REPORT_EXAMPLES));
      }
      // Read whole: the examples, and at most the idle users of the positions up to the examples' last one and
      // the page read ahead meanwhile (at most 184 of 300). The 150 without a domain were counted from their names.
      const idleInTwoPages = [...idle].filter((id) => Number(id.slice(1)) < REPORT_EXAMPLES * 15 + 2 * MAX_CURSOR_PAGE);
      expect(picked.every((id) => idle.has(id))).toBe(true);
      expect(picked).toEqual(expect.arrayContaining([...idle].slice(0, REPORT_EXAMPLES)));
      expect(picked.length).toBeLessThanOrEqual(idleInTwoPages.length);
      expect(report.warnings.filter((w) => w.includes('no domain'))).toEqual([expect.stringMatching(/^150 SCIM userNames have no domain/)]);
    }));
});

/**
 * Runs `test` on a fresh store of `kind` holding one customer (`<name>-<kind>`) with a SCIM connection and an
 * Okta OIDC client, and cleans the store up after it.
 */
async function withOktaCustomer(
  kind: (typeof STORE_KINDS)[number],
  name: string,
  test: (setup: { store: Store; customerId: string; connectionId: string }) => Promise<void>,
): Promise<void> {
  const { store, cleanup } = await makeStore(kind, `report-${name}`);
  try {
    const customerId = `${name}-${kind}`;
    const app = scimSso({ store });
    const { connectionId } = await app.createScimConnection({ customerId });
    await app.createOidcClient({ customerId, idpType: 'Okta', issuer: 'https://idp.example.com', clientId: 'c', redirectUri: 'https://app.example.com/cb' });
    await test({ store, customerId, connectionId });
  } finally {
    await cleanup();
  }
}

/** An SSO user who logged in once with a verified email. */
function loggedIn(email: string): StoredSsoUser {
  return sso({ subject: `sub-${email}`, email, emailVerified: true });
}
