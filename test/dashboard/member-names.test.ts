/**
 * The customer page names the shown members of a group that come without a `display` by reading their
 * users, within MEMBER_NAME_CHARS of user JSON (src/dashboard/customer-page.ts): each was read and parsed
 * whole, and 100 members of 0.8 MB held the event loop 0.8-1.3 s (an audit, 2026-12-07). Past the budget,
 * members are shown by their id. Sizes and counts are asserted, never times.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MEMBER_NAME_CHARS, MEMBERS_SHOWN } from '../../src/dashboard/customer-page.js';
import { userSpec } from '../../src/scim/users.js';
import { STORE_KINDS, makeStore, type TestStore } from '../support/app.js';
import { scimSso } from '../support/sso.js';
import { aroundStoreCalls } from '../support/store-calls.js';
import { dashboardRenderer } from './fixture.js';

const CUSTOMER = 'names';
/** Members without a display, each a user of about USER_CHARS of JSON. */
const MEMBERS = Math.min(MEMBERS_SHOWN, 12);
const USER_CHARS = 300_000;

describe.each(STORE_KINDS)('member names on the customer page, %s store', (kind) => {
  let made: TestStore;
  let render: (path: string) => Promise<{ status: number; body: string }>;
  let userReads = 0;

  beforeAll(async () => {
    made = await makeStore(kind, 'dashboard-member-names');
    const watched = aroundStoreCalls(made.store, (method, call, args) => {
      if (method === 'getResource' && args[1] === 'User') userReads++;
      return call();
    });
    const sso = scimSso({ store: watched });
    const { connectionId } = await sso.createScimConnection({ customerId: CUSTOMER });
    const ids = Array.from({ length: MEMBERS }, (_, i) => `member-${String(i).padStart(2, '0')}`);
    for (const [i, id] of ids.entries()) {
      const write = userSpec.toWrite({ id, userName: `person${i}@names.test`, notes: 'n'.repeat(USER_CHARS) });
      expect((await made.store.createResource(connectionId, write)).ok).toBe(true);
    }
    const members = ids.map((value) => ({ value }));
    const group = { id: 'team', kind: 'Group' as const, json: JSON.stringify({ displayName: 'Team' }), indexes: [], members, displayName: 'Team' };
    expect((await made.store.createResource(connectionId, group)).ok).toBe(true);
    render = dashboardRenderer(sso);
  });
  afterAll(async () => {
    await made.cleanup();
  });

  it('names members from their users while the budget lasts, then shows their ids', async () => {
    // The page's first users are the members themselves; only those past the users page are read here.
    userReads = 0;
    const page = await render(`/admin/customers/${CUSTOMER}?users=${MEMBERS}`);
    expect(page.status).toBe(200);
    const named = Array.from({ length: MEMBERS }, (_, i) => page.body.includes(`person${i}@names.test`));
    const budgeted = Math.floor(MEMBER_NAME_CHARS / USER_CHARS) + 1;
    expect(named.filter(Boolean).length).toBeGreaterThanOrEqual(Math.min(MEMBERS, budgeted));
    expect(named.filter(Boolean).length).toBeLessThan(MEMBERS);
    expect(page.body).toContain(`member-${String(MEMBERS - 1).padStart(2, '0')}`);
    expect(userReads).toBeLessThanOrEqual(budgeted + 10);
  });
});
