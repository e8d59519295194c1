/**
 * Lists of names on the customer and Compare pages are shown as far as LIST_CHARS goes, with how many more
 * there are (src/dashboard/name-list.ts): a customer's SCIM client can put each user in 1,000 groups of
 * 1,024-character names, which made the customer page 51.7 MB and the Compare page 102.7 MB (a hostile-tenant
 * probe, 2026-12-07). The Compare page shows CANDIDATES_SHOWN SCIM users side by side. Sizes are asserted in
 * bytes, never in time. Called through the framework-neutral dashboard handler, as paging.test.ts does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CANDIDATES_SHOWN } from '../../src/dashboard/compare-data.js';
import { GROUPS_PAGE, MEMBERS_SHOWN } from '../../src/dashboard/customer-page.js';
import { LIST_CHARS, firstNames } from '../../src/dashboard/name-list.js';
import { userSpec } from '../../src/scim/users.js';
import { STORE_KINDS, makeStore, type TestStore } from '../support/app.js';
import { scimSso } from '../support/sso.js';
import { dashboardRenderer, ssoUser } from './fixture.js';

const CUSTOMER = 'long';
/** Users sharing externalId "X" (more than the Compare page shows), each in every long group. */
const SHARED = CANDIDATES_SHOWN + 10;
/** Groups of 1,024-character names holding every SHARED user: 123 KB of names per user. */
const LONG_GROUPS = 120;
/** Characters of a long group's name, and its hostile start (escaped on the page). */
const NAME_CHARS = 1024;
const HOSTILE = '<script>"x"</script>';
const longName = (g: number) => `${String(g).padStart(3, '0')} ${HOSTILE}`.padEnd(NAME_CHARS, 'x');
const ESCAPED = '&lt;script&gt;&quot;x&quot;&lt;/script&gt;';
/** Short groups of the one ordinary user, all shown. */
const SHORT_GROUPS = ['Engineering', 'R&D', 'Sales'];
/** Members of the group whose members' displays are long, each display 500 characters. */
const WIDE_MEMBERS = MEMBERS_SHOWN + 5;
/** Roles the ordinary user's group gives: 20 of 100 characters (the most one rule may give). */
const ROLES = Array.from({ length: 20 }, (_, i) => `role-${String(i).padStart(2, '0')}-`.padEnd(100, 'r'));

/**
 * The most bytes each page may be. Customer page: the SHARED + 1 users' rows, each with LIST_CHARS of group
 * names and short other values; GROUPS_PAGE groups of up to NAME_CHARS (escaped: a little more) with
 * LIST_CHARS of members; the SSO user's LIST_CHARS of roles; 40 KB of layout and the rest. Before the bound,
 * the users' groups alone were SHARED × LONG_GROUPS × NAME_CHARS, 3.7 MB.
 */
const CUSTOMER_PAGE_BYTES = (SHARED + 1) * (LIST_CHARS + 500) + GROUPS_PAGE * (NAME_CHARS + 100 + LIST_CHARS + 200) + LIST_CHARS + 40_000;
/** Compare page: CANDIDATES_SHOWN candidates with LIST_CHARS of groups and of emails, and 40 KB for the rest. */
const COMPARE_PAGE_BYTES = CANDIDATES_SHOWN * (2 * LIST_CHARS + 2_000) + 40_000;

describe.each(STORE_KINDS)('long name lists on the dashboard, %s store', (kind) => {
  let made: TestStore;
  let render: (path: string) => Promise<{ status: number; body: string }>;

  beforeAll(async () => {
    made = await makeStore(kind, 'dashboard-long-lists');
    const sso = scimSso({ store: made.store });
    const { connectionId } = await sso.createScimConnection({ customerId: CUSTOMER });
    await sso.createOidcClient({
      customerId: CUSTOMER,
      idpType: 'Okta',
      issuer: 'https://idp.example.test',
      clientId: 'c',
      redirectUri: 'https://app.example.test/cb',
    });
    const createUser = async (id: string, user: Record<string, unknown>) =>
      expect((await made.store.createResource(connectionId, userSpec.toWrite({ id, ...user }))).ok).toBe(true);
    const createGroup = async (id: string, displayName: string, members: { value: string; display?: string }[]) =>
      expect(
        (await made.store.createResource(connectionId, { id, kind: 'Group', json: JSON.stringify({ displayName }), indexes: [], members, displayName })).ok,
      ).toBe(true);

    const shared = Array.from({ length: SHARED }, (_, i) => `shared-${String(i).padStart(2, '0')}`);
    for (const [i, id] of shared.entries()) await createUser(id, { userName: `evil@d${i}.test`, externalId: 'X' });
    // The one a later strategy finds (email → userName), with more emails than LIST_CHARS shows.
    const emails = Array.from({ length: 20 }, (_, k) => ({ value: `e${String(k).padStart(2, '0')}-`.padEnd(190, 'e') + '@long.test' }));
    await createUser('solo', { userName: 'solo@long.test', externalId: 'solo', emails: [{ value: 'solo@long.test', primary: true }, ...emails] });
    // First, so that they are on the customer page's first page of groups.
    for (const [i, name] of SHORT_GROUPS.entries()) await createGroup(`short-${i}`, name, [{ value: 'solo', display: 'solo@long.test' }]);
    const wide = Array.from({ length: WIDE_MEMBERS }, (_, i) => ({ value: `member-${i}`, display: `m${i}-${HOSTILE}`.padEnd(500, 'm') }));
    await createGroup('wide', 'Wide members', wide);
    for (let g = 0; g < LONG_GROUPS; g += 10) {
      await Promise.all(
        Array.from({ length: 10 }, (_, k) =>
          createGroup(
            `long-${String(g + k).padStart(3, '0')}`,
            longName(g + k),
            shared.map((value) => ({ value })),
          ),
        ),
      );
    }

    await sso.setRoleMapping(CUSTOMER, { rules: [{ groupDisplayName: 'Engineering', roles: ROLES }] });
    await made.store.recordSsoUser(
      CUSTOMER,
      ssoUser({ subject: 'solo', email: 'solo@long.test', lastOutcome: 'admitted', lastReason: null, lastScimUserId: 'solo' }),
    );
    await made.store.recordSsoUser(CUSTOMER, ssoUser({ subject: 'X', email: 'solo@long.test', lastReason: 'ambiguous' }));

    render = dashboardRenderer(sso);
  });
  afterAll(async () => {
    await made.cleanup();
  });

  /** The Groups cell of a SCIM user's row on the customer page. */
  const groupsCell = (page: string, userName: string) =>
    new RegExp(
      `<tr><th scope="row">${userName.replace(/[.]/g, '\\.')}</th>[\\s\\S]*?<td>(?:<span class="badge [^"]+">[^<]*</span>)</td><td>([\\s\\S]*?)</td></tr>`,
    ).exec(page)![1]!;

  it("shows each SCIM user's first groups and how many more, the page bounded in bytes", async () => {
    const page = await render(`/admin/customers/${CUSTOMER}`);
    expect(page.status).toBe(200);
    expect(Buffer.byteLength(page.body)).toBeLessThan(CUSTOMER_PAGE_BYTES);
    for (let i = 0; i < SHARED; i++) {
      const cell = groupsCell(page.body, `evil@d${i}.test`);
      // One 1,024-character name fills the budget (each counted as escaped): the other groups are counted.
      const shown = [...cell.matchAll(/\d{3} &lt;script&gt;/g)].length;
      expect(shown).toBe(1);
      expect(cell).toContain(`<span class="muted">… and ${LONG_GROUPS - shown} more groups</span>`);
      expect(cell.length).toBeLessThan(LIST_CHARS + 200);
    }
    // An ordinary user's groups are all shown, with no note.
    const solo = groupsCell(page.body, 'solo@long.test');
    expect(solo.split(', ').sort()).toEqual(SHORT_GROUPS.map((g) => g.replace('&', '&amp;')).sort());
    expect(solo).not.toContain('more');
  });

  it("cuts a group's members and an SSO user's roles the same way", async () => {
    const page = await render(`/admin/customers/${CUSTOMER}`);
    const wide = /<th scope="row">Wide members<\/th><td>(\d+)<\/td>([\s\S]*?)<\/tr>/.exec(page.body)!;
    expect(wide[1]).toBe(String(WIDE_MEMBERS));
    // 500-character displays with 5 escaped characters (25 more each) and a separator: 3 fit in LIST_CHARS.
    const members = [...wide[2]!.matchAll(/<li>([^<]*)<\/li>/g)].map((m) => m[1]);
    const fit = Math.floor(LIST_CHARS / (500 + 5 * 5 + 2));
    expect(members).toHaveLength(fit);
    expect(members[0]).toBe(`m0-${HOSTILE}`.padEnd(500, 'm').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;'));
    expect(wide[2]).toContain(`… and ${WIDE_MEMBERS - fit} more members`);

    const sso = page.body.slice(page.body.indexOf('id="sso"'));
    const row = /<code>solo<\/code>[\s\S]*?<span class="badge ok">Admitted<\/span><\/td><td>([\s\S]*?)<\/td>/.exec(sso)![1]!;
    const roles = Math.floor(LIST_CHARS / 102);
    expect(row.startsWith(ROLES.slice(0, roles).join(', '))).toBe(true);
    expect(ROLES.length - roles).toBe(1);
    expect(row).toContain('… and 1 more role</span>');
  });

  it('keeps every name escaped', async () => {
    for (const path of [`/admin/customers/${CUSTOMER}`, `/admin/customers/${CUSTOMER}/compare?subject=X`]) {
      const page = await render(path);
      expect(page.body, path).not.toContain(HOSTILE);
      expect(page.body, path).not.toContain('<script>"');
      expect(page.body, path).toContain(ESCAPED);
    }
  });

  it('compares with the first CANDIDATES_SHOWN candidates, each lookup in turn, each with its first groups and emails', async () => {
    const page = await render(`/admin/customers/${CUSTOMER}/compare?subject=X`);
    expect(page.status).toBe(200);
    expect(Buffer.byteLength(page.body)).toBeLessThan(COMPARE_PAGE_BYTES);
    const columns = [...page.body.matchAll(/<th scope="col">SCIM user <code>([^<]*)<\/code><\/th>/g)].map((m) => m[1]);
    expect(columns).toHaveLength(CANDIDATES_SHOWN);
    // solo is found by the email lookup, after SHARED users of the externalId lookup: taken in turn, it is shown.
    expect(columns).toContain('solo@long.test');
    expect(columns.filter((c) => c!.startsWith('evil@'))).toHaveLength(CANDIDATES_SHOWN - 1);
    const more = SHARED + 1 - CANDIDATES_SHOWN;
    expect(page.body.match(new RegExp(`… and ${more} more SCIM users`, 'g'))).toHaveLength(2);
    // The outcome counts every candidate, shown or not.
    const externalId = /<th scope="row"><code>OidcSubToScimExternalId<\/code>[\s\S]*?<\/tr>/.exec(page.body)![0];
    expect(externalId).toContain('Refused: ambiguous');

    const details = page.body.slice(page.body.indexOf('id="candidates-heading"'));
    const groupRows = [...details.matchAll(/<tr><th scope="row">groups<\/th><td>([\s\S]*?)<\/td><\/tr>/g)].map((m) => m[1]!);
    expect(groupRows).toHaveLength(CANDIDATES_SHOWN);
    for (const cell of groupRows.filter((c) => c.includes('&lt;script&gt;'))) {
      expect([...cell.matchAll(/\d{3} &lt;script&gt;/g)]).toHaveLength(1);
      expect(cell).toContain(`… and ${LONG_GROUPS - 1} more groups`);
    }
    expect(groupRows.filter((c) => c.includes('&lt;script&gt;'))).toHaveLength(CANDIDATES_SHOWN - 1);
    expect(groupRows).toContain(SHORT_GROUPS.map((g) => g.replace('&', '&amp;')).join(', '));
    // solo's 21 emails of about 200 characters: as many as LIST_CHARS holds, then the count of the rest.
    const emails = /<tr><th scope="row">emails<\/th><td>(solo@long\.test[\s\S]*?)<\/td><\/tr>/.exec(details)![1]!;
    const shownEmails = emails.split(' <span')[0]!.split(', ');
    expect(shownEmails).toHaveLength(firstNames(['solo@long.test', ...Array.from({ length: 20 }, () => 'e'.repeat(200))], (e) => e).names.length);
    expect(emails).toContain(`… and ${21 - shownEmails.length} more emails`);
  });
});

describe('firstNames', () => {
  it('keeps names within the budget counted as escaped, at least one (cut with "…"), and counts the rest', () => {
    expect(firstNames(['a', 'b', 'c'], (n) => n)).toEqual({ names: ['a', 'b', 'c'], more: 0 });
    expect(firstNames([], (n: string) => n)).toEqual({ names: [], more: 0 });
    expect(firstNames(['aaaa', 'bbbb', 'cccc'], (n) => n, { chars: 12 })).toEqual({ names: ['aaaa', 'bbbb'], more: 1 });
    // `"` is 6 characters on the page: two of them and a separator are 14.
    expect(firstNames(['""', 'b'], (n) => n, { chars: 14 })).toEqual({ names: ['""'], more: 1 });
    // A total read apart (a group's size beside its first members).
    expect(firstNames(['a'], (n) => n, { total: 1000 })).toEqual({ names: ['a'], more: 999 });
    // One name longer than the budget is cut, never splitting a surrogate pair.
    expect(firstNames(['x'.repeat(5000), 'y'], (n) => n)).toEqual({ names: [`${'x'.repeat(LIST_CHARS)}…`], more: 1 });
    expect(firstNames([`a${'😀'.repeat(10)}`], (n) => n, { chars: 4 }).names).toEqual(['a😀…']);
    expect(firstNames(['"'.repeat(100)], (n) => n, { chars: 30 }).names).toEqual(['"'.repeat(5) + '…']);
    // Only the names kept and the one after are read.
    const read: number[] = [];
    firstNames(
      Array.from({ length: 10_000 }, (_, i) => i),
      (i) => (read.push(i), 'n'.repeat(998)),
    );
    expect(read).toEqual([0, 1]);
  });
});
