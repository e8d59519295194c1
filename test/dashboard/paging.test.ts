/**
 * The customer and Compare pages read pages from the store, never a whole list: SSO users, SCIM users and
 * groups one page each (groups without their member lists, then each one's first members), the Compare
 * page one SSO user and one batched lookup. Called through the framework-neutral dashboard handler.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GROUPS_PAGE, MEMBERS_SHOWN, SSO_PAGE, USERS_PAGE } from '../../src/dashboard/customer-page.js';
import { CUSTOMERS_PAGE } from '../../src/dashboard/customers-page.js';
import { userSpec } from '../../src/scim/users.js';
import { STORE_KINDS, makeStore, type TestStore } from '../support/app.js';
import { scimSso } from '../support/sso.js';
import { recordStoreCalls, type StoreCall } from '../support/store-calls.js';
import { dashboardRenderer, ssoUser } from './fixture.js';

const CUSTOMER = 'paged';
const SSO_USERS = 2 * SSO_PAGE + 30;
const SCIM_USERS = USERS_PAGE + 30;
const GROUPS = GROUPS_PAGE + 5;
const BIG_GROUP = MEMBERS_SHOWN + 5;
/** Customers besides CUSTOMER, each with a SCIM connection: more than the Customers page lists at once. */
const OTHER_CUSTOMERS = Array.from({ length: CUSTOMERS_PAGE + 4 }, (_, i) => `many-${String(i).padStart(3, '0')}`);

describe.each(STORE_KINDS)('dashboard pages on the %s store', (kind) => {
  let made: TestStore;
  let calls: StoreCall[];
  let render: (path: string) => Promise<{ status: number; body: string }>;

  beforeAll(async () => {
    made = await makeStore(kind, 'dashboard-paging');
    const recorded = recordStoreCalls(made.store);
    calls = recorded.calls;
    const sso = scimSso({ store: recorded.store });
    const { connectionId } = await sso.createScimConnection({ customerId: CUSTOMER });
    await sso.createOidcClient({
      customerId: CUSTOMER,
      idpType: 'Okta',
      issuer: 'https://idp.example.test',
      clientId: 'c',
      redirectUri: 'https://app.example.test/cb',
    });
    const ids: string[] = [];
    for (let i = 0; i < SCIM_USERS; i++) {
      const id = `user-${String(i).padStart(3, '0')}`;
      ids.push(id);
      expect((await made.store.createResource(connectionId, userSpec.toWrite({ id, userName: `p${i}@paged.test`, externalId: `00u${i}` }))).ok).toBe(true);
    }
    for (let g = 0; g < GROUPS; g++) {
      // The first group has more members than a row shows, sent without display (as Entra sends them).
      const members = g === 0 ? ids.slice(0, BIG_GROUP).map((value) => ({ value })) : [{ value: ids[g]!, display: `member ${g}` }];
      const write = {
        id: `group-${String(g).padStart(3, '0')}`,
        kind: 'Group' as const,
        json: JSON.stringify({ displayName: `Group ${g}` }),
        indexes: [],
        members,
        displayName: `Group ${g}`,
      };
      expect((await made.store.createResource(connectionId, write)).ok).toBe(true);
    }
    for (const customerId of OTHER_CUSTOMERS) await sso.createScimConnection({ customerId });
    for (let i = 0; i < SSO_USERS; i++) {
      const seen = new Date(Date.UTC(2026, 10, 1, 0, 0, i)).toISOString();
      await made.store.recordSsoUser(CUSTOMER, ssoUser({ subject: `s${i}`, email: `p${i}@paged.test`, lastSeenAt: seen }));
    }
    render = dashboardRenderer(sso);
  });
  afterAll(async () => {
    await made.cleanup();
  });

  /** The calls `fn` makes, by method. */
  const during = async (fn: () => Promise<unknown>): Promise<StoreCall[]> => {
    calls.length = 0;
    await fn();
    return [...calls];
  };
  const rowsOf = (html: string, section: string) => {
    const part = html.slice(html.indexOf(`id="${section}"`));
    return [...part.slice(0, part.indexOf('</section>')).matchAll(/<code>(s\d+)<\/code>/g)].map((m) => m[1]);
  };

  it('renders one page of SSO users, most recently seen first, with links to the next and previous pages', async () => {
    let page = { status: 0, body: '' };
    const used = await during(async () => (page = await render(`/admin/customers/${CUSTOMER}`)));
    expect(page.status).toBe(200);
    expect(page.body).toContain(`SSO users (${SSO_USERS})`);
    expect(page.body).toContain(`SSO users 1–${SSO_PAGE} of ${SSO_USERS}`);
    expect(rowsOf(page.body, 'sso')).toEqual(Array.from({ length: SSO_PAGE }, (_, i) => `s${SSO_USERS - 1 - i}`));
    expect(page.body).toContain(`href="/admin/customers/${CUSTOMER}?sso=${SSO_PAGE}#sso"`);
    const last = await render(`/admin/customers/${CUSTOMER}?sso=${2 * SSO_PAGE}`);
    expect(last.body).toContain(`SSO users ${2 * SSO_PAGE + 1}–${SSO_USERS} of ${SSO_USERS}`);
    expect(rowsOf(last.body, 'sso')).toEqual(Array.from({ length: 30 }, (_, i) => `s${29 - i}`));
    expect(last.body).toContain(`href="/admin/customers/${CUSTOMER}?sso=${SSO_PAGE}#sso"`);
    // One page of each list, never a whole one.
    const methods = used.map((c) => c.method);
    expect(methods).not.toContain('listSsoUsers');
    expect(used.filter((c) => c.method === 'listSsoUserPage').map((c) => c.args.slice(1))).toEqual([[0, SSO_PAGE]]);
    expect(used.filter((c) => c.method === 'listPage').map((c) => c.args.slice(1))).toEqual([
      ['User', 0, USERS_PAGE],
      ['Group', 0, GROUPS_PAGE, { members: false }],
    ]);
    const memberReads = used.filter((c) => c.method === 'listGroupMembers');
    expect(memberReads).toHaveLength(GROUPS_PAGE);
    expect(memberReads.every((c) => c.args[2] === 0 && c.args[3] === MEMBERS_SHOWN)).toBe(true);
  });

  it("renders one page of SCIM users and of groups, each group's size and first members", async () => {
    const page = await render(`/admin/customers/${CUSTOMER}`);
    expect(page.body).toContain(`SCIM users (${SCIM_USERS})`);
    expect(page.body).toContain(`Users 1–${USERS_PAGE} of ${SCIM_USERS}`);
    expect(page.body).toContain(`SCIM groups (${GROUPS})`);
    expect(page.body).toContain(`Groups 1–${GROUPS_PAGE} of ${GROUPS}`);
    const big = /<th scope="row">Group 0<\/th><td>(\d+)<\/td>([\s\S]*?)<\/tr>/.exec(page.body)!;
    expect(big[1]).toBe(String(BIG_GROUP));
    // Members without display are named by their userName (listed users, else read one by one).
    expect([...big[2]!.matchAll(/<li>([^<]*)<\/li>/g)].map((m) => m[1])).toEqual(Array.from({ length: MEMBERS_SHOWN }, (_, i) => `p${i}@paged.test`));
    expect(big[2]).toContain(`and ${BIG_GROUP - MEMBERS_SHOWN} more`);
    expect(page.body).toMatch(/<th scope="row">Group 1<\/th><td>1<\/td>\s*<td><ul class="plain"><li>member 1<\/li><\/ul>/);
    const second = await render(`/admin/customers/${CUSTOMER}?users=${USERS_PAGE}&groups=${GROUPS_PAGE}`);
    expect(second.body).toContain(`Users ${USERS_PAGE + 1}–${SCIM_USERS} of ${SCIM_USERS}`);
    expect(second.body).toContain(`Groups ${GROUPS_PAGE + 1}–${GROUPS} of ${GROUPS}`);
  });

  it('lists one page of customers in id order, loading only those, and finds customers by a part of their id', async () => {
    const everyone = [...OTHER_CUSTOMERS, CUSTOMER].sort();
    const listed = (html: string) => [...html.matchAll(/<th scope="row"><a href="\/admin\/customers\/([^"]+)">/g)].map((m) => m[1]);
    let first = { status: 0, body: '' };
    const used = await during(async () => (first = await render('/admin/')));
    expect(first.status).toBe(200);
    expect(listed(first.body)).toEqual(everyone.slice(0, CUSTOMERS_PAGE));
    expect(first.body).toContain(`Customers 1–${CUSTOMERS_PAGE} of ${everyone.length}`);
    expect(first.body).toContain(`href="/admin/?customers=${CUSTOMERS_PAGE}"`);
    // Only the listed customers are loaded: their connection and two counts each.
    expect(used.filter((c) => c.method === 'getConnectionByCustomer')).toHaveLength(CUSTOMERS_PAGE);
    expect(used.filter((c) => c.method === 'listPage')).toHaveLength(2 * CUSTOMERS_PAGE);

    const second = await render(`/admin/?customers=${CUSTOMERS_PAGE}`);
    expect(listed(second.body)).toEqual(everyone.slice(CUSTOMERS_PAGE));
    expect(second.body).toContain(`Customers ${CUSTOMERS_PAGE + 1}–${everyone.length} of ${everyone.length}`);
    expect(second.body).toContain('href="/admin/">Previous</a>');
    expect(second.body).not.toContain('>Next</a>');

    const found = await render('/admin/?find=MANY-00');
    expect(listed(found.body)).toEqual(OTHER_CUSTOMERS.filter((id) => id.startsWith('many-00')));
    expect(found.body).toContain('value="MANY-00"');
    expect(found.body).toContain('href="/admin/">Show every customer</a>');
    const hostile = await render(`/admin/?find=${encodeURIComponent('"><script>x</script>')}`);
    expect(hostile.status).toBe(200);
    expect(listed(hostile.body)).toEqual([]);
    expect(hostile.body).not.toContain('<script>x');
    expect(hostile.body).toContain('No customer id contains');
    // Past the end: an empty page that still links back.
    const past = await render('/admin/?customers=500');
    expect(listed(past.body)).toEqual([]);
    expect(past.body).toContain(`href="/admin/?customers=${everyone.length - CUSTOMERS_PAGE}">Previous</a>`);
  });

  it('compares one SSO user reading that user and one batched lookup', async () => {
    let page = { status: 0, body: '' };
    const used = await during(async () => (page = await render(`/admin/customers/${CUSTOMER}/compare?subject=s5`)));
    expect(page.status).toBe(200);
    expect(page.body).toContain('SCIM user <code>p5@paged.test</code>');
    const methods = used.map((c) => c.method);
    expect(methods).not.toContain('listSsoUsers');
    expect(methods).not.toContain('findUsersForLogin');
    expect(used.filter((c) => c.method === 'getSsoUser').map((c) => c.args)).toEqual([[CUSTOMER, 's5']]);
    expect(methods.filter((m) => m === 'findUsersForLoginBatch')).toHaveLength(1);
    expect((await render(`/admin/customers/${CUSTOMER}/compare?subject=nobody`)).status).toBe(404);
  });
});
