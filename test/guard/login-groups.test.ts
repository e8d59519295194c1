/**
 * A login reads the groups of the one user it can admit, not of every user its lookup finds
 * (src/store/store.ts LoginLookup; loginHolders in src/store/redis-login-scripts.ts): a value held by 100 users in
 * 1,000 groups each made every login of it, and every Test SSO, read 100,000 memberships, 1.3-2.1 s a login
 * on a shared process (a hostile-tenant audit, 2026-12-07). The session still gets the admitted user's
 * groups whichever way they were read.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runGuard } from '../../src/guard/guard.js';
import { identityOf, ssoUserRecord } from '../../src/guard/identity.js';
import { bodyText } from '../../src/scim/response-body.js';
import type { RecordedLogin, Store, StoredConnection } from '../../src/store/store.js';
import { makeStore, STORE_KINDS, type TestStore } from '../support/app.js';
import { scimRequest, scimSso, type ScimSso } from '../support/sso.js';
import { aroundStoreCalls } from '../support/store-calls.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';

describe.each(STORE_KINDS)('the groups a login reads (%s store)', (kind) => {
  let made: TestStore;
  let sso: ScimSso;
  let token: string;
  let connection: StoredConnection;
  const ids: Record<string, string> = {};
  const customerId = `login-groups-${kind}`;
  const client = { customerId, matchingStrategy: 'OidcSubToScimExternalId', subjectClaim: 'sub' } as const;

  const post = async (path: string, body: object) => {
    const response = await sso.handleScim(scimRequest(token, 'POST', path, { body }));
    expect(response.status).toBe(201);
    return (JSON.parse(bodyText(response.body)!) as { id: string }).id;
  };

  beforeAll(async () => {
    made = await makeStore(kind, 'login-groups');
    sso = scimSso({ store: made.store, rateLimit: false });
    ({ token } = await sso.createScimConnection({ customerId }));
    connection = (await made.store.getConnectionByCustomer(customerId))!;
    // "one": an active holder beside two deactivated ones (Okta's deactivate-then-create); "many": three active.
    const holders: [string, string, boolean][] = [
      ['old1', 'one', false],
      ['old2', 'one', false],
      ['current', 'one', true],
      ['a', 'many', true],
      ['b', 'many', true],
      ['c', 'many', true],
    ];
    for (const [name, externalId, active] of holders)
      ids[name] = await post('/Users', { schemas: [USER], userName: `${name}@login-groups.test`, externalId, active });
    for (const group of ['g1', 'g2']) {
      await post('/Groups', { schemas: [GROUP], displayName: group, members: Object.values(ids).map((value) => ({ value })) });
    }
  });
  afterAll(async () => {
    await made?.cleanup();
  });

  const groupsById = (found: { users: { id: string; groups?: { display: string }[] }[] }) =>
    Object.fromEntries(found.users.map((u) => [u.id, u.groups?.map((g) => g.display).sort()]));
  const attempt = (value: string) => ({
    connectionId: connection.connectionId,
    lookup: { attribute: 'externalId', value },
    inactiveWhenFalse: 'active',
    user: ssoUserRecord({ sub: value }, identityOf({ sub: value }, 'sub'), { admitted: true, reason: null, scimUserId: null }),
  });

  it('reads the groups of the one active holder, and on Redis no other holder’s', async () => {
    for (const found of [
      (await made.store.recordLogin(customerId, attempt('one'))).found,
      await made.store.findUsersForLogin(connection.connectionId, 'externalId', 'one'),
    ]) {
      const groups = groupsById(found);
      expect(groups[ids.current!]).toEqual(['g1', 'g2']);
      if (kind === 'redis') expect([groups[ids.old1!], groups[ids.old2!]]).toEqual([undefined, undefined]);
    }
  });

  it('reads no holder’s groups on Redis when two or more are active (the login is ambiguous)', async () => {
    for (const found of [
      (await made.store.recordLogin(customerId, attempt('many'))).found,
      await made.store.findUsersForLogin(connection.connectionId, 'externalId', 'many'),
    ]) {
      expect(found.users).toHaveLength(3);
      if (kind === 'redis') expect(Object.values(groupsById(found))).toEqual([undefined, undefined, undefined]);
    }
  });

  it('gives the admitted session its groups, and reads them again when the lookup left them unread', async () => {
    const admitted = await runGuard(made.store, { client, connection }, { sub: 'one' });
    expect(admitted.sessionUser).toMatchObject({ scimUserId: ids.current, groups: [{ displayName: 'g1' }, { displayName: 'g2' }] });
    // A store whose lookup read nobody's groups (as when the strategy admits a holder the script did not).
    const withoutGroups: Store = aroundStoreCalls(made.store, (method, call) => {
      if (method !== 'recordLogin') return call();
      return (call() as Promise<RecordedLogin>).then((recorded) => {
        for (const user of recorded.found.users) delete user.groups;
        return recorded;
      });
    });
    const again = await runGuard(withoutGroups, { client, connection }, { sub: 'one' });
    expect(again.sessionUser).toMatchObject({ scimUserId: ids.current, groups: [{ displayName: 'g1' }, { displayName: 'g2' }] });
  });

  it('leaves every user’s groups unread in a batch asked without them (Test SSO), and reads them otherwise', async () => {
    const lookups = [
      { attribute: 'externalId', value: 'one' },
      { attribute: 'externalId', value: 'many' },
    ];
    const bare = await made.store.findUsersForLoginBatch(connection.connectionId, lookups, { groups: false });
    expect(bare.flatMap((answer) => answer.users.map((u) => u.groups))).toEqual(Array.from({ length: 6 }, () => undefined));
    const full = await made.store.findUsersForLoginBatch(connection.connectionId, lookups);
    expect(full.flatMap((answer) => answer.users.map((u) => u.groups?.length))).toEqual(Array.from({ length: 6 }, () => 2));
  });
});
