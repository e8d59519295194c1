/**
 * A login whose looked-up value is held by large users (LoginLookup.projected in src/store/store.ts;
 * loginProjectionOf in src/store/login-outcome.ts): 100 users of 0.8 MB sharing an externalId held the event
 * loop 1.5-4 s in one turn per login (an audit, 2026-12-07), then cost 1.2-1.35 s of CPU and 97 MB of heap on
 * Redis once each holder was parsed a turn at a time, since every holder was read and parsed whole to learn
 * three facts of it. Large users now keep their login projection beside them, which a login reads instead:
 * its cost no longer grows with the holders' size. Only the admitted user is read whole. Parses and the bytes
 * parsed are counted, never timed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CANDIDATES_SHOWN, compareStrategies } from '../../src/dashboard/compare-data.js';
import { candidatesOf, loginCandidateOf, runGuard } from '../../src/guard/guard.js';
import { identityOf } from '../../src/guard/identity.js';
import { bodyText } from '../../src/scim/response-body.js';
import { LOGIN_PROJECTION_CHARS } from '../../src/store/login-outcome.js';
import { LOGIN_DECODE_BYTES } from '../../src/store/redis-scripts.js';
import { PAGE_READ_BYTES } from '../../src/store/read-budgets.js';
import type { LoginBatchOptions, Store, StoredConnection } from '../../src/store/store.js';
import { makeStore, STORE_KINDS, type StoreKind, type TestStore } from '../support/app.js';
import { dashboardRenderer, ssoUser } from '../dashboard/fixture.js';
import { scanKeys } from '../support/redis.js';
import { scimRequest, scimSso, type ScimSso } from '../support/sso.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
/** Holders of one externalId, each with this much more JSON: together past what one login script decodes. */
const NOTE_CHARS = 200_000;
const HOLDERS = Math.ceil((2 * LOGIN_DECODE_BYTES) / NOTE_CHARS) + 1;

/** Counts the JSON.parse calls of `run` on texts longer than `over`, and the characters they parsed. */
async function countingParses<T>(over: number, run: () => Promise<T>): Promise<{ result: T; parses: number; chars: number }> {
  const parse = JSON.parse;
  let parses = 0;
  let chars = 0;
  JSON.parse = ((text: string, reviver?: Parameters<typeof parse>[1]) => {
    if (typeof text === 'string' && text.length > over) {
      parses++;
      chars += text.length;
    }
    return parse(text, reviver);
  }) as typeof JSON.parse;
  try {
    return { result: await run(), parses, chars };
  } finally {
    JSON.parse = parse;
  }
}

describe.each(STORE_KINDS)('logins over large holders (%s store)', (kind) => {
  let made: TestStore;
  let sso: ScimSso;
  let token: string;
  let connection: StoredConnection;
  const customerId = `large-holders-${kind}`;
  const client = { customerId, matchingStrategy: 'OidcSubToScimExternalId', subjectClaim: 'sub' } as const;
  const ids: string[] = [];
  const login = (sub: string) => runGuard(made.store, { client, connection }, { sub });
  const scim = async (method: string, path: string, body: unknown, status: number) => {
    const response = await sso.handleScim(scimRequest(token, method, path, { body }));
    expect(response.status, bodyText(response.body)).toBe(status);
    return response.status === 204 ? null : (JSON.parse(bodyText(response.body)!) as { id: string });
  };
  const holder = (i: number, externalId: string, active: boolean, notes = 'n'.repeat(NOTE_CHARS)) => ({
    schemas: [USER],
    userName: `h${i}-${externalId}@large.test`,
    externalId,
    active,
    notes,
  });

  beforeAll(async () => {
    made = await makeStore(kind, 'large-holders');
    sso = scimSso({ store: made.store, rateLimit: false, maxBodyBytes: 2_000_000 });
    ({ token } = await sso.createScimConnection({ customerId }));
    connection = (await made.store.getConnectionByCustomer(customerId))!;
    // The last one created is the only active one (Okta's deactivate-then-create, at large).
    for (let i = 0; i < HOLDERS; i++) ids.push((await scim('POST', '/Users', holder(i, 'shared', i === HOLDERS - 1), 201))!.id);
  });
  afterAll(async () => {
    await made?.cleanup();
  });

  it('finds every holder, the large ones as their login projections', async () => {
    const found = await made.store.findUsersForLogin(connection.connectionId, 'externalId', 'shared');
    expect(found.users.map((u) => u.id)).toEqual(ids);
    for (const user of found.users) {
      if (found.projected?.has(user.id)) {
        expect(user.json.length).toBeLessThan(LOGIN_PROJECTION_CHARS);
        expect(JSON.parse(user.json)).not.toHaveProperty('notes');
      } else {
        expect(JSON.parse(user.json)).toMatchObject({ externalId: 'shared', notes: 'n'.repeat(NOTE_CHARS) });
      }
    }
    // Every inactive holder comes projected; the one a login can admit may come whole (Redis reads it whole).
    expect(ids.slice(0, -1).every((id) => found.projected?.has(id))).toBe(true);
  });

  it("matches on each holder's facts, which its projection holds", async () => {
    const candidates = await candidatesOf((await made.store.findUsersForLogin(connection.connectionId, 'externalId', 'shared')).users);
    expect(candidates.map((c) => c.active)).toEqual(Array.from({ length: HOLDERS }, (_, i) => i === HOLDERS - 1));
    expect(candidates.map((c) => [c.userName, c.externalId])).toEqual(Array.from({ length: HOLDERS }, (_, i) => [`h${i}-shared@large.test`, 'shared']));
    for (const candidate of candidates) expect(candidate).not.toHaveProperty('resource');
  });

  it('admits the one active holder, parsing the admitted one alone whole, however many large holders', async () => {
    const { result, parses, chars } = await countingParses(NOTE_CHARS, () => login('shared'));
    expect(result.decision.admit).toBe(true);
    expect(result.scimUser?.id).toBe(ids.at(-1));
    expect(result.scimUser?.resource).toMatchObject({ userName: `h${HOLDERS - 1}-shared@large.test`, externalId: 'shared', active: true });
    expect((result.scimUser?.resource as { notes: string }).notes).toHaveLength(NOTE_CHARS);
    // The admitted user: its facts and its resource (Redis; the memory store reads its facts from the
    // projection). Before, every holder was parsed: HOLDERS + 1 parses.
    expect(parses).toBeGreaterThanOrEqual(1);
    expect(parses).toBeLessThanOrEqual(2);
    expect(chars).toBeLessThan(3 * NOTE_CHARS);
  });

  it('refuses, from the projections alone, when no holder or several are active', async () => {
    const none: string[] = [];
    for (let i = 0; i < 3; i++) none.push((await scim('POST', '/Users', holder(i, 'none-active', false), 201))!.id);
    const refused = await countingParses(NOTE_CHARS, () => login('none-active'));
    expect(refused.result.decision).toMatchObject({ admit: false, reason: 'deactivated' });
    expect(refused.result.decision.scimUser?.id).toBe(none.at(-1));
    expect(refused.parses).toBe(0);
    for (let i = 0; i < 2; i++) await scim('POST', '/Users', holder(i, 'two-active', true), 201);
    const ambiguous = await countingParses(NOTE_CHARS, () => login('two-active'));
    expect(ambiguous.result.decision).toMatchObject({ admit: false, reason: 'ambiguous' });
    expect(ambiguous.parses).toBe(0);
  });

  it('answers a batch with projections when asked (the matching report, Test SSO), and whole otherwise (the Compare page)', async () => {
    const lookups = [
      { attribute: 'externalId', value: 'shared' },
      { attribute: 'userName', value: 'h0-shared@large.test' },
    ];
    const [byExternalId, byUserName] = await made.store.findUsersForLoginBatch(connection.connectionId, lookups, { groups: false, projections: true });
    expect(byExternalId!.users.map((u) => u.id)).toEqual(ids);
    expect(byExternalId!.projected).toEqual(new Set(ids));
    for (const user of byExternalId!.users) expect(user.json.length).toBeLessThan(LOGIN_PROJECTION_CHARS);
    expect(byUserName!.users.map((u) => u.id)).toEqual([ids[0]]);
    expect(byUserName!.projected).toEqual(new Set([ids[0]]));
    const candidates = byExternalId!.users.map(loginCandidateOf);
    expect(candidates.map((c) => [c.userName, c.active])).toEqual(Array.from({ length: HOLDERS }, (_, i) => [`h${i}-shared@large.test`, i === HOLDERS - 1]));
    // Test SSO's comparison reads no holder whole; the Compare page's reads each.
    const identity = identityOf({ sub: 'shared' }, 'sub');
    const compare = (read: LoginBatchOptions) =>
      countingParses(NOTE_CHARS, () =>
        compareStrategies(made.store, connection.connectionId, identity, {}, (users) => users.map(loginCandidateOf), ['OidcSubToScimExternalId'], read),
      );
    const facts = await compare({ groups: false, projections: true });
    expect(facts.result[0]!.matchedIds).toEqual(ids);
    expect(facts.result[0]!.decision).toMatchObject({ admit: true });
    expect(facts.parses).toBe(0);
    const whole = await compare({ groups: false });
    expect(whole.result[0]!.matchedIds).toEqual(ids);
    expect(whole.parses).toBe(HOLDERS);
    const [plain] = await made.store.findUsersForLoginBatch(connection.connectionId, [lookups[0]!], { groups: false });
    expect(plain!.projected).toBeUndefined();
    expect(plain!.users.map((u) => u.id)).toEqual(ids);
    for (const user of plain!.users) expect((JSON.parse(user.json) as { notes: string }).notes).toHaveLength(NOTE_CHARS);
  });

  it('lists in each answer of a batch exactly the users it gives as projections, across the scripts that read it', async () => {
    // A large user, then holders of the same value under the projection size but past PAGE_READ_BYTES together
    // (Redis: that lookup is read a holder per script, the large one already read, as a projection, by the
    // lookup before it).
    const large = (await scim('POST', '/Users', holder(0, 'mixed', true), 201))!.id;
    const small = 'n'.repeat(LOGIN_PROJECTION_CHARS - 2_000);
    for (let i = 1; i <= Math.ceil(PAGE_READ_BYTES / small.length) + 2; i++) await scim('POST', '/Users', holder(i, 'mixed', false, small), 201);
    const lookups = [
      { attribute: 'userName', value: 'h0-mixed@large.test' },
      { attribute: 'externalId', value: 'mixed' },
    ];
    const answers = await made.store.findUsersForLoginBatch(connection.connectionId, lookups, { groups: false, projections: true });
    expect(answers[0]!.users.map((u) => u.id)).toEqual([large]);
    expect(answers[1]!.users[0]!.id).toBe(large);
    for (const answer of answers) {
      for (const user of answer.users) expect(answer.projected?.has(user.id) ?? false, user.id).toBe(!user.json.includes('"notes"'));
    }
  });

  it('shows the Compare page over more large holders than it shows, parsing whole only those it shows', async () => {
    const many = CANDIDATES_SHOWN + 5;
    const note = 'n'.repeat(LOGIN_PROJECTION_CHARS + 100);
    for (let i = 0; i < many; i++) await scim('POST', '/Users', holder(i, 'many', i === 0, note), 201);
    await sso.createOidcClient({ customerId, idpType: 'Okta', issuer: 'https://idp.example.test', clientId: 'c', redirectUri: 'https://app.example.test/cb' });
    await made.store.recordSsoUser(customerId, ssoUser({ subject: 'many', lastOutcome: 'admitted', lastReason: null }));
    const render = dashboardRenderer(sso);
    const { result: page, parses } = await countingParses(LOGIN_PROJECTION_CHARS, () => render(`/admin/customers/${customerId}/compare?subject=many`));
    expect(page.status).toBe(200);
    const columns = [...page.body.matchAll(/<th scope="col">SCIM user <code>([^<]*)<\/code><\/th>/g)].map((m) => m[1]);
    expect(columns).toEqual(Array.from({ length: CANDIDATES_SHOWN }, (_, i) => `h${i}-many@large.test`));
    // Each shown holder read whole once (its emails and displayName are shown); before, every holder found.
    expect(parses).toBe(CANDIDATES_SHOWN);
  });

  it("follows a large user's writes: deactivated, reactivated, shrunk, grown again, deleted", async () => {
    const { id } = (await scim('POST', '/Users', holder(0, 'lifecycle', true), 201))!;
    expect((await login('lifecycle')).decision.admit).toBe(true);
    const setActive = (active: boolean) =>
      scim('PATCH', `/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: active }] }, 204);
    await setActive(false);
    expect((await login('lifecycle')).decision).toMatchObject({ admit: false, reason: 'deactivated' });
    await setActive(true);
    expect((await login('lifecycle')).decision.admit).toBe(true);
    // Shrunk below the size that keeps a projection: read whole, and its facts are its own (no stale projection).
    await scim('PUT', `/Users/${id}`, { ...holder(0, 'lifecycle', false), notes: 'short' }, 200);
    const small = await made.store.findUsersForLogin(connection.connectionId, 'externalId', 'lifecycle');
    expect(small.projected?.has(id) ?? false).toBe(false);
    expect(JSON.parse(small.users[0]!.json)).toMatchObject({ active: false, notes: 'short' });
    expect((await login('lifecycle')).decision).toMatchObject({ admit: false, reason: 'deactivated' });
    await scim('PUT', `/Users/${id}`, holder(0, 'lifecycle', true), 200);
    expect((await login('lifecycle')).scimUser?.id).toBe(id);
    await scim('DELETE', `/Users/${id}`, undefined, 204);
    expect((await login('lifecycle')).decision).toMatchObject({ admit: false, reason: 'deleted' });
    expect((await made.store.findUsersForLogin(connection.connectionId, 'externalId', 'lifecycle')).users).toEqual([]);
  });
});

describe('a large user stored without its login projection (Redis: written by an earlier version)', () => {
  let made: TestStore;

  beforeAll(async () => {
    made = await makeStore('redis', 'large-holders-old');
  });
  afterAll(async () => {
    await made?.cleanup();
  });

  it('is read whole, and decided the same', async () => {
    const sso = scimSso({ store: made.store, rateLimit: false, maxBodyBytes: 2_000_000 });
    const customerId = 'large-holders-old';
    const { token } = await sso.createScimConnection({ customerId });
    const connection = (await made.store.getConnectionByCustomer(customerId))!;
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const body = { schemas: [USER], userName: `old${i}@large.test`, externalId: 'old', active: i === 1, notes: 'n'.repeat(NOTE_CHARS) };
      const response = await sso.handleScim(scimRequest(token, 'POST', '/Users', { body }));
      ids.push((JSON.parse(bodyText(response.body)!) as { id: string }).id);
    }
    const { client, prefix } = made.redis!;
    const projections = `${prefix}{c:${connection.connectionId}}:u:lp`;
    expect(await client.hlen(projections)).toBe(3);
    await client.del(projections);
    const found = await made.store.findUsersForLogin(connection.connectionId, 'externalId', 'old');
    expect(found.projected?.size ?? 0).toBe(0);
    expect(found.users.map((u) => (JSON.parse(u.json) as { notes: string }).notes.length)).toEqual([NOTE_CHARS, NOTE_CHARS, NOTE_CHARS]);
    const result = await runGuard(
      made.store,
      { client: { customerId, matchingStrategy: 'OidcSubToScimExternalId', subjectClaim: 'sub' }, connection },
      { sub: 'old' },
    );
    expect(result.scimUser?.id).toBe(ids[1]);
    // A new write of it keeps its projection again; deleting the connection leaves none of its keys.
    const body = { schemas: [USER], userName: 'old0@large.test', externalId: 'old', active: false, notes: 'm'.repeat(NOTE_CHARS) };
    const put = await sso.handleScim(scimRequest(token, 'PUT', `/Users/${ids[0]}`, { body }));
    expect(put.headers.ETag).toBe('W/"2"');
    expect(await client.hlen(projections)).toBe(1);
    expect(await made.store.deleteConnection(connection.connectionId)).toBe(true);
    expect(await scanKeys(client, `${prefix}{c:${connection.connectionId}}:*`)).toEqual([]);
  });
});

describe('a large user whose facts changed after the lookup read them', () => {
  const USER_BODY = (externalId: string, active: boolean) => ({
    schemas: [USER],
    userName: `${externalId}@large.test`,
    externalId,
    active,
    notes: 'n'.repeat(NOTE_CHARS),
  });
  const deactivate = { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] };
  const client = (customerId: string) => ({ customerId, matchingStrategy: 'OidcSubToScimExternalId', subjectClaim: 'sub' }) as const;
  /** A store whose customer `customerId` has one large active user, of externalId `customerId`. */
  async function oneLargeUser(kind: StoreKind, customerId: string, extra: Record<string, unknown> = {}) {
    const made = await makeStore(kind, `large-holders-${customerId}`);
    const sso = scimSso({ store: made.store, rateLimit: false, maxBodyBytes: 2_000_000 });
    const { token } = await sso.createScimConnection({ customerId });
    const connection = (await made.store.getConnectionByCustomer(customerId))!;
    const created = await sso.handleScim(scimRequest(token, 'POST', '/Users', { body: { ...USER_BODY(customerId, true), ...extra } }));
    const { id } = JSON.parse(bodyText(created.body)!) as { id: string };
    return { made, sso, token, connection, id };
  }

  it('is decided on as it is now (memory: deactivated between the lookup and the read of the user it admits)', async () => {
    const { made, sso, token, connection, id } = await oneLargeUser('memory', 'race');
    // The lookup reads the user active (as its projection); the user is deactivated before the guard reads it whole.
    const racing: Store = {
      ...made.store,
      recordLogin: async (customerId, attempt) => {
        const recorded = await made.store.recordLogin(customerId, attempt);
        expect(recorded.found.projected).toEqual(new Set([id]));
        expect((await sso.handleScim(scimRequest(token, 'PATCH', `/Users/${id}`, { body: deactivate }))).status).toBe(204);
        return recorded;
      },
    };
    const result = await runGuard(racing, { client: client('race'), connection }, { sub: 'race' });
    expect(result.decision).toMatchObject({ admit: false, reason: 'deactivated', scimUser: { id, active: false } });
    expect(result.scimUser).toBeNull();
    // The attempt is recorded as decided, not as the lookup's outcome.
    expect(await made.store.getSsoUser('race', 'race')).toMatchObject({ lastOutcome: 'refused', lastReason: 'deactivated', lastScimUserId: id });
  });

  it('is refused as deleted when it is gone by the time the guard reads it whole (memory)', async () => {
    const { made, sso, token, connection, id } = await oneLargeUser('memory', 'gone');
    const deleting: Store = {
      ...made.store,
      getResource: async (...args) => {
        expect((await sso.handleScim(scimRequest(token, 'DELETE', `/Users/${id}`))).status).toBe(204);
        return made.store.getResource(...args);
      },
    };
    const result = await runGuard(deleting, { client: client('gone'), connection }, { sub: 'gone' });
    expect(result.decision).toEqual({ admit: false, reason: 'deleted', scimUser: null });
    expect(await made.store.getSsoUser('gone', 'gone')).toMatchObject({ lastOutcome: 'refused', lastReason: 'deleted', lastScimUserId: null });
  });

  it.each(STORE_KINDS)('is shown by the Compare page as deleted since found when it is gone by the time the page reads it (%s)', async (kind) => {
    const { made, sso, token, id } = await oneLargeUser(kind, 'cgone', { displayName: 'Shown Name' });
    try {
      await sso.createOidcClient({
        customerId: 'cgone',
        idpType: 'Okta',
        issuer: 'https://idp.example.test',
        clientId: 'c',
        redirectUri: 'https://app.example.test/cb',
      });
      await made.store.recordSsoUser('cgone', ssoUser({ subject: 'cgone' }));
      const deleting: Store = {
        ...made.store,
        getResource: async (...args) => {
          await sso.handleScim(scimRequest(token, 'DELETE', `/Users/${id}`));
          return made.store.getResource(...args);
        },
      };
      const page = await dashboardRenderer(scimSso({ store: deleting, rateLimit: false }))(`/admin/customers/cgone/compare?subject=cgone`);
      expect(page.status).toBe(200);
      expect(page.body).toContain('SCIM user <code>cgone@large.test</code> <span class="badge bad">deleted since found</span>');
    } finally {
      await made.cleanup();
    }
  });

  it('is decided on as it is now (Redis: a projection an earlier version left stale)', async () => {
    const { made, sso, token, connection, id } = await oneLargeUser('redis', 'stale');
    try {
      const { client: redis, prefix } = made.redis!;
      const projections = `${prefix}{c:${connection.connectionId}}:u:lp`;
      const [seq, active] = Object.entries(await redis.hgetall(projections))[0]!;
      expect((await sso.handleScim(scimRequest(token, 'PATCH', `/Users/${id}`, { body: deactivate }))).status).toBe(204);
      // What an instance of an earlier version leaves: the row deactivated, the projection still active.
      await redis.hset(projections, seq, active);
      const result = await runGuard(made.store, { client: client('stale'), connection }, { sub: 'stale' });
      expect(result.decision).toMatchObject({ admit: false, reason: 'deactivated', scimUser: { id, active: false } });
      expect(await made.store.getSsoUser('stale', 'stale')).toMatchObject({ lastOutcome: 'refused', lastReason: 'deactivated' });
    } finally {
      await made.cleanup();
    }
  });
});
