import { describe, expect, it } from 'vitest';
import { buildMatchingReport, type ReportInput } from '../../src/match/report.js';
import type { ScimCandidate } from '../../src/match/strategies.js';
import type { StoredSsoUser } from '../../src/store/store.js';

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
  Object.fromEntries(report.strategies.map((s) => [s.strategy, [s.admitted.length, s.inactive.length, s.affected.length, s.ambiguous.length]]));

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
    expect(report.strategies[0]!.unmatchedScimUsers.map((u) => u.id)).toEqual(['bd0b9f34-d4a2-41dc-a2d7-14bfd65c0df3']);
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
    expect(local.ambiguous.map((a) => a.scimUsers.map((u) => u.id))).toEqual([['a', 'b']]);
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
});

describe('the matching report read from a store', () => {
  it('tells SSO users whose SCIM user was deleted apart from those never provisioned', async () => {
    const { scimSso } = await import('../support/sso.js');
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
    const created = JSON.parse((await scim('POST', '/Users', { userName: 'gone@corp.example' })).body!) as { id: string };
    await scim('POST', '/Users', { userName: 'here@corp.example' });
    expect((await scim('DELETE', `/Users/${created.id}`)).status).toBe(204);
    for (const email of ['gone@corp.example', 'here@corp.example', 'never@corp.example']) {
      await sso.store.recordSsoUser('r', loggedIn(email));
    }
    const report = await sso.matchingReport('r');
    const byEmail = report.strategies.find((s) => s.strategy === 'OidcEmailToScimUsername')!;
    expect(byEmail.admitted.map((a) => a.ssoUser.email)).toEqual(['here@corp.example']);
    expect(byEmail.deleted.map((u) => u.email)).toEqual(['gone@corp.example']);
    expect(byEmail.affected.map((u) => u.email)).toEqual(['never@corp.example']);
  });
});

/** An SSO user who logged in once with a verified email. */
function loggedIn(email: string): StoredSsoUser {
  return sso({ subject: `sub-${email}`, email, emailVerified: true });
}
