/**
 * The one contract suite that every Store implementation passes (see src/store/store.ts).
 * Each test gets a fresh store from `makeStore`.
 */
import { createHash, randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type {
  IndexEntry,
  NumberedLoginLookup,
  ResourceWrite,
  Store,
  StoredConnection,
  StoredMember,
  StoredResource,
  StoredOidcClient,
  StoredSamlConnection,
  StoredSsoUser,
} from '../../src/store/store.js';
import type { TombstoneOptions } from '../../src/store/tombstones.js';
import {
  GROUP_ID_BYTES,
  GROUP_IDS_PER_PAGE,
  GROUP_IDS_PER_SCRIPT,
  PAGE_MEMBERS_BUDGET,
  PAGE_READ_BYTES,
  sessionGroupBytes,
} from '../../src/store/read-budgets.js';
import { memberBytes, resourceBytes } from '../../src/store/write-weights.js';
import { normalizeResourceWrite } from '../../src/store/store-checks.js';
import { loginProjectionOf } from '../../src/store/login-outcome.js';
import type { ActivityLogName } from '../../src/store/activity-log.js';
import type { EventLogOptions } from '../../src/store/event-log.js';
import { SESSION_GRANT_RETENTION_MS, SETUP_GRANT_RETENTION_MS, type StoredSetupGrant } from '../../src/store/setup-grants.js';
import { MAX_SSO_RECORD_BYTES, type SsoRecordOptions } from '../../src/store/sso-records.js';
import { eventLogContract } from './events-contract.js';
import { SORT_RUN_WEIGHT } from '../../src/sliced-sort.js';
import { bySeenDescending, byUtf8 } from '../../src/seen-order.js';

/** Makes a fresh store (with its own key prefix on Redis) with these options. */
export type MakeStore = (options?: TombstoneOptions & EventLogOptions & SsoRecordOptions) => Promise<{ store: Store; cleanup(): Promise<void> }>;

const hash = (token: string): string => createHash('sha256').update(token).digest('hex');

/** A connection with fresh ids and a fresh token hash. */
export function makeConnection(overrides: Partial<StoredConnection> = {}): StoredConnection {
  return {
    connectionId: `conn-${randomUUID()}`,
    customerId: `cust-${randomUUID()}`,
    displayName: 'Acme',
    tokenHash: hash(randomUUID()),
    previousTokenHash: null,
    previousTokenExpiresAt: null,
    createdAt: '2024-01-01T00:00:00.000Z',
    ...overrides,
  };
}

/** A user write with the indexes the SCIM layer produces: userName, its local part, externalId, emails. */
export function userWrite(id: string, userName: string, extra: { externalId?: string; emails?: string[]; json?: string } = {}): ResourceWrite {
  const folded = userName.toLowerCase();
  const indexes: IndexEntry[] = [
    { attribute: 'userName', value: folded, unique: true },
    { attribute: 'userNameLocal', value: folded.split('@')[0]!, unique: false },
  ];
  if (extra.externalId !== undefined) indexes.push({ attribute: 'externalId', value: extra.externalId, unique: false });
  for (const email of extra.emails ?? []) indexes.push({ attribute: 'email', value: email.toLowerCase(), unique: false });
  const json = extra.json ?? JSON.stringify({ id, userName, externalId: extra.externalId, emails: extra.emails ?? [] });
  return { id, kind: 'User', json, indexes };
}

/** A group write with a unique folded displayName index. */
export function groupWrite(id: string, displayName: string, members: StoredMember[] = []): ResourceWrite {
  return {
    id,
    kind: 'Group',
    json: JSON.stringify({ id, displayName }),
    indexes: [{ attribute: 'displayName', value: displayName.toLowerCase(), unique: true }],
    members,
    displayName,
  };
}

/** An OIDC client for `customerId`. */
export function makeOidcClient(customerId: string, overrides: Partial<StoredOidcClient> = {}): StoredOidcClient {
  return {
    oidcClientId: `oidc-${randomUUID()}`,
    customerId,
    idpType: 'Okta',
    issuer: 'https://acme.okta.com',
    clientId: 'client-1',
    clientSecret: 'secret-1',
    redirectUri: 'https://app.example.com/callback',
    matchingStrategy: 'OidcEmailToScimUsername',
    subjectClaim: 'sub',
    claimsSource: 'auto',
    scopes: ['openid', 'email', 'profile'],
    createdAt: '2024-01-01T00:00:00.000Z',
    updatedAt: '2024-01-01T00:00:00.000Z',
    ...overrides,
  };
}

/** A SAML connection of `customerId` (its certificate is an opaque string to the store). */
export function makeSamlConnection(customerId: string, overrides: Partial<StoredSamlConnection> = {}): StoredSamlConnection {
  return {
    samlConnectionId: `saml-${randomUUID()}`,
    customerId,
    idpType: 'MicrosoftEntra',
    idpEntityId: 'https://sts.windows.net/tenant/',
    entryPoint: 'https://login.microsoftonline.com/tenant/saml2',
    idpCerts: ['-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'],
    spEntityId: 'https://app.example.com/sso/acme/saml/metadata',
    acsUrl: 'https://app.example.com/sso/acme/saml/acs',
    matchingStrategy: 'SamlAttributeToScimExternalId',
    matchAttribute: 'http://schemas.microsoft.com/identity/claims/objectidentifier',
    emailAttribute: 'email',
    signed: 'assertion',
    clockSkewSeconds: 60,
    createdAt: '2024-01-01T00:00:00.000Z',
    updatedAt: '2024-01-01T00:00:00.000Z',
    ...overrides,
  };
}

/** An SSO user seen once at `at`. */
export function makeSsoUser(subject: string, at: string, overrides: Partial<StoredSsoUser> = {}): StoredSsoUser {
  return {
    subject,
    email: `${subject}@example.com`,
    emailVerified: true,
    preferredUsername: subject,
    name: 'Ann Example',
    claims: { sub: subject, groups: [], amr: ['pwd'], nested: { big: 12345678901234, empty: {} } },
    firstSeenAt: at,
    lastSeenAt: at,
    lastOutcome: 'admitted',
    lastReason: null,
    lastScimUserId: 'scim-1',
    ...overrides,
  };
}

const ids = (resources: { id: string }[]): string[] => resources.map((r) => r.id);

export function storeContract(name: string, makeStore: MakeStore): void {
  eventLogContract(name, makeStore);
  describe(`${name} store contract`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    let conn: StoredConnection;
    let cid: string;
    /** The stores' clock: tests move it instead of sleeping. */
    const clock = { now: Date.now() };
    const now = () => clock.now;

    beforeEach(async () => {
      clock.now = Date.now();
      ({ store, cleanup } = await makeStore({ now }));
      conn = makeConnection();
      cid = conn.connectionId;
      expect(await store.createConnection(conn)).toBe('created');
    });
    afterEach(async () => {
      await store.close?.();
      await cleanup();
    });

    const createUser = async (userName: string, extra: Parameters<typeof userWrite>[2] = {}): Promise<string> => {
      const id = randomUUID();
      expect(await store.createResource(cid, userWrite(id, userName, extra))).toEqual({ ok: true, version: 1 });
      return id;
    };
    const createGroup = async (displayName: string, members: StoredMember[] = []): Promise<string> => {
      const id = randomUUID();
      expect(await store.createResource(cid, groupWrite(id, displayName, members))).toEqual({ ok: true, version: 1 });
      return id;
    };
    /** `count` users `<name>0`, `<name>1`… whose JSON carries `noteChars` more characters each, in order; their ids. */
    const createWideUsers = async (count: number, name: string, noteChars: number): Promise<string[]> => {
      const made: string[] = [];
      for (let i = 0; i < count; i++) {
        const id = randomUUID();
        const json = JSON.stringify({ id, userName: `${name}${i}`, note: 'x'.repeat(noteChars) });
        expect(await store.createResource(cid, userWrite(id, `${name}${i}`, { json }))).toMatchObject({ ok: true });
        made.push(id);
      }
      return made;
    };

    describe('connections', () => {
      it('finds a created connection by customer and by token hash', async () => {
        expect(await store.getConnectionByCustomer(conn.customerId)).toEqual(conn);
        expect(await store.findConnectionByTokenHash(conn.tokenHash)).toEqual(conn);
        expect(await store.findConnectionByTokenHash(hash('unknown'))).toBeNull();
        expect(await store.getConnectionByCustomer('nobody')).toBeNull();
      });

      it('answers exists for a second connection of the same customer and keeps the first', async () => {
        const second = makeConnection({ customerId: conn.customerId });
        expect(await store.createConnection(second)).toBe('exists');
        expect(await store.getConnectionByCustomer(conn.customerId)).toEqual(conn);
        expect(await store.findConnectionByTokenHash(second.tokenHash)).toBeNull();
        expect(await store.createResource(second.connectionId, userWrite('u1', 'a'))).toEqual({
          ok: false,
          reason: 'not_found',
        });
      });

      it('creates exactly one connection when one customer is created concurrently', async () => {
        const customerId = `cust-${randomUUID()}`;
        const results = await Promise.all(Array.from({ length: 10 }, () => store.createConnection(makeConnection({ customerId }))));
        expect(results.filter((r) => r === 'created')).toHaveLength(1);
        expect(results.filter((r) => r === 'exists')).toHaveLength(9);
      });

      it('throws when the connectionId is already used by another customer', async () => {
        await expect(store.createConnection(makeConnection({ connectionId: cid }))).rejects.toThrow(/in use/);
        expect(await store.getConnectionByCustomer(conn.customerId)).toEqual(conn);
      });

      it('rejects ids with braces, whitespace or control characters, or longer than 200 characters', async () => {
        for (const bad of ['a{b', 'a}b', 'a b', 'a\tb', 'a\u0000b', '', 'x'.repeat(201)]) {
          await expect(store.createConnection(makeConnection({ connectionId: bad }))).rejects.toThrow(TypeError);
          await expect(store.createConnection(makeConnection({ customerId: bad }))).rejects.toThrow(TypeError);
          await expect(store.getConnectionByCustomer(bad)).rejects.toThrow(TypeError);
        }
        await expect(store.createConnection(makeConnection({ connectionId: 'x'.repeat(200) }))).resolves.toBe('created');
      });

      it('rotates tokens: the new hash works and the old one stops when no previous is kept', async () => {
        const next = hash('next');
        const updated = await store.updateConnectionTokens(cid, {
          tokenHash: next,
          previousTokenHash: null,
          previousTokenExpiresAt: null,
        });
        expect(updated).toEqual({ ok: true, connection: { ...conn, tokenHash: next } });
        expect(await store.findConnectionByTokenHash(next)).toEqual({ ...conn, tokenHash: next });
        expect(await store.findConnectionByTokenHash(conn.tokenHash)).toBeNull();
        expect(await store.getConnectionByCustomer(conn.customerId)).toEqual({ ...conn, tokenHash: next });
      });

      it('accepts the previous token until it expires, then refuses it', async () => {
        const next = hash('next');
        const expiresAt = clock.now + 60_000;
        await store.updateConnectionTokens(cid, {
          tokenHash: next,
          previousTokenHash: conn.tokenHash,
          previousTokenExpiresAt: expiresAt,
        });
        clock.now = expiresAt - 1;
        const before = await store.findConnectionByTokenHash(conn.tokenHash);
        expect(before).toMatchObject({ connectionId: cid, tokenHash: next, previousTokenExpiresAt: expiresAt });
        clock.now = expiresAt;
        expect(await store.findConnectionByTokenHash(conn.tokenHash)).toBeNull();
        expect(await store.findConnectionByTokenHash(next)).toMatchObject({ connectionId: cid });
      });

      it('refuses a previous token whose expiry is in the past or null', async () => {
        const past = await store.updateConnectionTokens(cid, {
          tokenHash: hash('a'),
          previousTokenHash: conn.tokenHash,
          previousTokenExpiresAt: clock.now - 1,
        });
        expect(past).toMatchObject({ ok: true, connection: { previousTokenHash: conn.tokenHash } });
        expect(await store.findConnectionByTokenHash(conn.tokenHash)).toBeNull();
        await store.updateConnectionTokens(cid, {
          tokenHash: hash('b'),
          previousTokenHash: hash('a'),
          previousTokenExpiresAt: null,
        });
        expect(await store.findConnectionByTokenHash(hash('a'))).toBeNull();
        expect(await store.findConnectionByTokenHash(hash('b'))).toMatchObject({ connectionId: cid });
      });

      it('stops accepting the former previous token after a second rotation', async () => {
        const later = Date.now() + 60_000;
        await store.updateConnectionTokens(cid, {
          tokenHash: hash('t2'),
          previousTokenHash: conn.tokenHash,
          previousTokenExpiresAt: later,
        });
        await store.updateConnectionTokens(cid, {
          tokenHash: hash('t3'),
          previousTokenHash: hash('t2'),
          previousTokenExpiresAt: later,
        });
        expect(await store.findConnectionByTokenHash(conn.tokenHash)).toBeNull();
        expect(await store.findConnectionByTokenHash(hash('t2'))).toMatchObject({ tokenHash: hash('t3') });
        expect(await store.findConnectionByTokenHash(hash('t3'))).toMatchObject({ previousTokenHash: hash('t2') });
      });

      it('lets another connection take a hash whose grace ended, and keeps it there when the first rotates again', async () => {
        await store.updateConnectionTokens(cid, { tokenHash: hash('a2'), previousTokenHash: conn.tokenHash, previousTokenExpiresAt: clock.now + 1_000 });
        clock.now += 1_000;
        const other = makeConnection({ tokenHash: conn.tokenHash });
        expect(await store.createConnection(other)).toBe('created');
        await store.updateConnectionTokens(cid, { tokenHash: hash('a3'), previousTokenHash: hash('a2'), previousTokenExpiresAt: clock.now + 60_000 });
        expect(await store.findConnectionByTokenHash(conn.tokenHash)).toMatchObject({ connectionId: other.connectionId });
        expect(await store.findConnectionByTokenHash(hash('a2'))).toMatchObject({ connectionId: cid });
        expect(await store.deleteConnection(cid)).toBe(true);
        expect(await store.findConnectionByTokenHash(conn.tokenHash)).toMatchObject({ connectionId: other.connectionId });
        expect(await store.findConnectionByTokenHash(hash('a3'))).toBeNull();
      });

      it('returns null when rotating the tokens of an unknown connection', async () => {
        const tokens = { tokenHash: hash('x'), previousTokenHash: null, previousTokenExpiresAt: null };
        expect(await store.updateConnectionTokens('conn-unknown', tokens)).toEqual({ ok: false, reason: 'not_found' });
        expect(await store.findConnectionByTokenHash(hash('x'))).toBeNull();
      });

      it('deletes a connection with its users, groups, tokens and customer lookup', async () => {
        const later = Date.now() + 60_000;
        await store.updateConnectionTokens(cid, {
          tokenHash: hash('new'),
          previousTokenHash: conn.tokenHash,
          previousTokenExpiresAt: later,
        });
        const uid = await createUser('ann@example.com', { externalId: 'e1' });
        const gid = await createGroup('Admins', [{ value: uid }]);

        expect(await store.deleteConnection(cid)).toBe(true);
        expect(await store.deleteConnection(cid)).toBe(false);
        expect(await store.getConnectionByCustomer(conn.customerId)).toBeNull();
        expect(await store.findConnectionByTokenHash(hash('new'))).toBeNull();
        expect(await store.findConnectionByTokenHash(conn.tokenHash)).toBeNull();
        expect(await store.getResource(cid, 'User', uid)).toBeNull();
        expect(await store.getResource(cid, 'Group', gid)).toBeNull();
        expect(await store.findByIndex(cid, 'User', 'externalId', 'e1')).toEqual([]);
        expect(await store.listPage(cid, 'User', 0, 10)).toEqual({ total: 0, resources: [] });
        expect(await store.createResource(cid, userWrite(randomUUID(), 'bob'))).toEqual({
          ok: false,
          reason: 'not_found',
        });
        expect(await store.updateConnectionTokens(cid, { ...conn })).toEqual({ ok: false, reason: 'not_found' });
        expect(await store.createConnection(makeConnection({ customerId: conn.customerId }))).toBe('created');
      });

      it('leaves other connections intact when deleting one', async () => {
        const other = makeConnection();
        await store.createConnection(other);
        await store.createResource(other.connectionId, userWrite('keep', 'ann'));
        await store.deleteConnection(cid);
        expect(await store.getConnectionByCustomer(other.customerId)).toEqual(other);
        expect(await store.findConnectionByTokenHash(other.tokenHash)).toEqual(other);
        expect(await store.getResource(other.connectionId, 'User', 'keep')).toMatchObject({ id: 'keep' });
      });

      it('returns copies that callers cannot use to change the store', async () => {
        const found = await store.getConnectionByCustomer(conn.customerId);
        found!.tokenHash = 'changed';
        expect(await store.getConnectionByCustomer(conn.customerId)).toEqual(conn);
      });
    });

    describe('resources', () => {
      it('creates a resource at version 1 and returns its JSON byte for byte', async () => {
        const json = '{"id":"u1","emails":[],"big":12345678901234567890,"n":1.50,"name":"Zoë 😀"}';
        const write = userWrite('u1', 'zoe', { json });
        expect(await store.createResource(cid, write)).toEqual({ ok: true, version: 1 });
        expect(await store.getResource(cid, 'User', 'u1')).toEqual({
          id: 'u1',
          kind: 'User',
          json,
          version: 1,
          groups: [],
        });
      });

      it('returns null for unknown ids, including ids no write could use', async () => {
        expect(await store.getResource(cid, 'User', 'missing')).toBeNull();
        expect(await store.getResource(cid, 'User', 'has space')).toBeNull();
        expect(await store.deleteResource(cid, 'User', 'has space')).toBe(false);
      });

      it('stores, replaces and deletes a resource without index entries', async () => {
        const write: ResourceWrite = { id: 'bare', kind: 'User', json: '{}', indexes: [] };
        expect(await store.createResource(cid, write)).toEqual({ ok: true, version: 1 });
        const indexed = userWrite('bare', 'ann');
        expect(await store.replaceResource(cid, indexed, 1)).toEqual({ ok: true, version: 2, groups: [] });
        expect(ids(await store.findByIndex(cid, 'User', 'userName', 'ann'))).toEqual(['bare']);
        expect(await store.replaceResource(cid, write, 2)).toEqual({ ok: true, version: 3, groups: [] });
        expect(await store.findByIndex(cid, 'User', 'userName', 'ann')).toEqual([]);
        expect(await store.deleteResource(cid, 'User', 'bare')).toBe(true);
        expect(await store.listPage(cid, 'User', 0, 10)).toEqual({ total: 0, resources: [] });
      });

      it('keeps users and groups apart even with the same id', async () => {
        await store.createResource(cid, userWrite('same', 'ann'));
        expect(await store.getResource(cid, 'Group', 'same')).toBeNull();
        expect(await store.createResource(cid, groupWrite('same', 'ann'))).toEqual({ ok: true, version: 1 });
        expect((await store.getResource(cid, 'Group', 'same'))?.kind).toBe('Group');
      });

      it('rejects a second resource with the same unique index value and leaves no trace of it', async () => {
        await createUser('Ann@example.com', { externalId: 'e1' });
        const loser = userWrite('loser', 'ann@example.com', { externalId: 'e2', emails: ['x@y.z'] });
        expect(await store.createResource(cid, loser)).toEqual({
          ok: false,
          reason: 'uniqueness',
          attribute: 'userName',
        });
        expect(await store.getResource(cid, 'User', 'loser')).toBeNull();
        expect(await store.findByIndex(cid, 'User', 'externalId', 'e2')).toEqual([]);
        expect(await store.findByIndex(cid, 'User', 'email', 'x@y.z')).toEqual([]);
        expect((await store.listPage(cid, 'User', 0, 10)).total).toBe(1);
      });

      it('rejects a second resource with the same id', async () => {
        await store.createResource(cid, userWrite('dup', 'ann'));
        expect(await store.createResource(cid, userWrite('dup', 'bob'))).toEqual({
          ok: false,
          reason: 'uniqueness',
          attribute: 'id',
        });
        expect(await store.findByIndex(cid, 'User', 'userName', 'bob')).toEqual([]);
      });

      it('finds every holder of a value, whole, however heavy (Redis reads those past PAGE_READ_BYTES by further scripts)', async () => {
        const note = 'x'.repeat(PAGE_READ_BYTES * 0.4);
        const heavy: string[] = [];
        for (let i = 0; i < 5; i++) {
          const id = randomUUID();
          const write = userWrite(id, `heavy-holder${i}`, { externalId: 'shared-heavy', json: JSON.stringify({ id, userName: `heavy-holder${i}`, note }) });
          expect(await store.createResource(cid, write)).toMatchObject({ ok: true });
          heavy.push(id);
        }
        await store.deleteResource(cid, 'User', heavy[4]!);
        const live = heavy.slice(0, 4);
        const found = await store.findByIndex(cid, 'User', 'externalId', 'shared-heavy');
        expect(ids(found)).toEqual(live);
        expect(found.every((u) => u.json.includes(note) && u.version === 1 && Array.isArray(u.groups))).toBe(true);
        const login = await store.findUsersForLogin(cid, 'externalId', 'shared-heavy');
        expect(ids(login.users)).toEqual(live);
      });

      it('lets several resources share a non-unique value and finds them in creation order', async () => {
        const a = await createUser('john@one.com', { externalId: 'x', emails: ['shared@x.com'] });
        const b = await createUser('john@two.com', { externalId: 'x', emails: ['shared@x.com'] });
        const c = await createUser('john@three.com', { externalId: 'x' });
        expect(ids(await store.findByIndex(cid, 'User', 'userNameLocal', 'john'))).toEqual([a, b, c]);
        expect(ids(await store.findByIndex(cid, 'User', 'email', 'shared@x.com'))).toEqual([a, b]);
        // Replacing the first puts it back at the end of the index list; the answer stays in creation order.
        const write = userWrite(a, 'john@one.com', { externalId: 'x', emails: ['shared@x.com'] });
        expect(await store.replaceResource(cid, write, 1)).toEqual({ ok: true, version: 2, groups: [] });
        expect(ids(await store.findByIndex(cid, 'User', 'externalId', 'x'))).toEqual([a, b, c]);
        expect(await store.findByIndex(cid, 'User', 'externalId', 'X')).toEqual([]);
      });

      it('replaces a resource when the version matches and bumps the version', async () => {
        const id = await createUser('ann');
        const write = userWrite(id, 'ann', { json: '{"v":2}' });
        expect(await store.replaceResource(cid, write, 1)).toEqual({ ok: true, version: 2, groups: [] });
        expect(await store.replaceResource(cid, { ...write, json: '{"v":3}' }, 2)).toEqual({ ok: true, version: 3, groups: [] });
        expect(await store.getResource(cid, 'User', id)).toMatchObject({ json: '{"v":3}', version: 3 });
      });

      it('refuses a replace with a stale version and changes nothing', async () => {
        const id = await createUser('ann', { externalId: 'e1' });
        await store.replaceResource(cid, userWrite(id, 'ann', { externalId: 'e1', json: '{"v":2}' }), 1);
        const stale = userWrite(id, 'bob', { externalId: 'e9', json: '{"stale":true}' });
        expect(await store.replaceResource(cid, stale, 1)).toEqual({
          ok: false,
          reason: 'version_mismatch',
          currentVersion: 2,
        });
        expect(await store.getResource(cid, 'User', id)).toMatchObject({ json: '{"v":2}', version: 2 });
        expect(ids(await store.findByIndex(cid, 'User', 'externalId', 'e1'))).toEqual([id]);
        expect(await store.findByIndex(cid, 'User', 'userName', 'bob')).toEqual([]);
      });

      it('checks the version first: a stale write that also takes a userName in use is version_mismatch', async () => {
        const id = await createUser('ann');
        await createUser('taken');
        await store.replaceResource(cid, userWrite(id, 'ann', { json: '{"v":2}' }), 1);
        expect(await store.replaceResource(cid, userWrite(id, 'taken'), 1)).toEqual({ ok: false, reason: 'version_mismatch', currentVersion: 2 });
        expect(await store.replaceResource(cid, userWrite(id, 'taken'), 2)).toMatchObject({ ok: false, reason: 'uniqueness' });
      });

      it("answers a replaced user's groups as they are after the write: current names, in group creation order", async () => {
        const id = await createUser('grouped');
        expect(await store.createResource(cid, groupWrite('gb', 'Beta', [{ value: id }]))).toMatchObject({ ok: true });
        expect(await store.createResource(cid, groupWrite('ga', 'Alpha', [{ value: id }]))).toMatchObject({ ok: true });
        const read = await store.getResource(cid, 'User', id);
        // A rename moves no member's version: a write computed from `read` is still at the current version.
        expect(await store.replaceResource(cid, groupWrite('gb', 'Beta 2', [{ value: id }]), 1)).toMatchObject({ ok: true });
        expect(await store.replaceResource(cid, userWrite(id, 'grouped', { json: '{"v":2}' }), read!.version)).toEqual({
          ok: true,
          version: read!.version + 1,
          groups: [
            { value: 'gb', display: 'Beta 2' },
            { value: 'ga', display: 'Alpha' },
          ],
        });
      });

      it('creates and deletes a user with 8,500 index attributes (more than a Lua unpack takes: batches inside scripts)', async () => {
        const write = userWrite('wide', 'wide', { emails: Array.from({ length: 300 }, (_, i) => `e${i}@x.com`) });
        for (let i = 0; i < 8500; i++) write.indexes.push({ attribute: `attr${i}`, value: `v${i}`, unique: false });
        expect(await store.createResource(cid, write)).toEqual({ ok: true, version: 1 });
        expect(ids(await store.findByIndex(cid, 'User', 'attr8499', 'v8499'))).toEqual(['wide']);
        expect(ids(await store.findByIndex(cid, 'User', 'email', 'e299@x.com'))).toEqual(['wide']);
        expect(await store.deleteResource(cid, 'User', 'wide')).toBe(true);
        expect(await store.findUsersForLogin(cid, 'attr8499', 'v8499')).toEqual({ users: [], deletedMatch: true });
        expect(await store.findUsersForLogin(cid, 'email', 'e0@x.com')).toEqual({ users: [], deletedMatch: true });
      });

      it('answers not_found when replacing a resource that does not exist', async () => {
        expect(await store.replaceResource(cid, userWrite('ghost', 'ghost'), 1)).toEqual({
          ok: false,
          reason: 'not_found',
        });
        expect(await store.findByIndex(cid, 'User', 'userName', 'ghost')).toEqual([]);
      });

      it('rejects a replace that takes another resource’s unique value and changes nothing', async () => {
        await createUser('ann');
        const bob = await createUser('bob', { externalId: 'b1' });
        const write = userWrite(bob, 'ANN', { externalId: 'b2' });
        expect(await store.replaceResource(cid, write, 1)).toEqual({
          ok: false,
          reason: 'uniqueness',
          attribute: 'userName',
        });
        expect(await store.getResource(cid, 'User', bob)).toMatchObject({ version: 1 });
        expect(ids(await store.findByIndex(cid, 'User', 'userName', 'bob'))).toEqual([bob]);
        expect(ids(await store.findByIndex(cid, 'User', 'externalId', 'b1'))).toEqual([bob]);
      });

      it('allows a replace that keeps its own unique value', async () => {
        const id = await createUser('ann');
        expect(await store.replaceResource(cid, userWrite(id, 'ann', { json: '{}' }), 1)).toEqual({
          ok: true,
          version: 2,
          groups: [],
        });
      });

      it('replaces index entries exactly: dropped values stop matching, kept and new ones match', async () => {
        const id = await createUser('ann@old.com', { externalId: 'e1', emails: ['a@x.com', 'b@x.com'] });
        const write = userWrite(id, 'ann@new.com', { externalId: 'e1', emails: ['b@x.com', 'c@x.com'] });
        await store.replaceResource(cid, write, 1);
        expect(await store.findByIndex(cid, 'User', 'userName', 'ann@old.com')).toEqual([]);
        expect(await store.findByIndex(cid, 'User', 'email', 'a@x.com')).toEqual([]);
        for (const [attribute, value] of [
          ['userName', 'ann@new.com'],
          ['userNameLocal', 'ann'],
          ['externalId', 'e1'],
          ['email', 'b@x.com'],
          ['email', 'c@x.com'],
        ] as const) {
          expect(ids(await store.findByIndex(cid, 'User', attribute, value))).toEqual([id]);
        }
        // The old unique value is free again.
        await createUser('ann@old.com');
      });

      it('replaces long lists of index entries exactly, and keeps a write that changes none of them', async () => {
        const emails = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `m${from + i}@x.com`);
        const id = await createUser('bea@x.com', { emails: emails(0, 30) });
        await store.replaceResource(cid, userWrite(id, 'bea@x.com', { emails: emails(15, 45) }), 1);
        for (const n of [0, 14]) expect(await store.findByIndex(cid, 'User', 'email', `m${n}@x.com`)).toEqual([]);
        for (const n of [15, 29, 30, 44]) expect(ids(await store.findByIndex(cid, 'User', 'email', `m${n}@x.com`))).toEqual([id]);
        // The same entries again, another JSON: the indexes still find it, once.
        await store.replaceResource(cid, userWrite(id, 'bea@x.com', { emails: emails(15, 45), json: '{"again":true}' }), 2);
        expect(await store.findByIndex(cid, 'User', 'userName', 'bea@x.com')).toEqual([expect.objectContaining({ id, json: '{"again":true}' })]);
        expect(ids(await store.findByIndex(cid, 'User', 'email', 'm20@x.com'))).toEqual([id]);
      });

      it('matches index values byte for byte, including non-ASCII characters and spaces', async () => {
        const id = await createUser('Zoë Ünïcode 😀 例え', { externalId: 'Ext Id ü' });
        expect(ids(await store.findByIndex(cid, 'User', 'userName', 'zoë ünïcode 😀 例え'))).toEqual([id]);
        expect(ids(await store.findByIndex(cid, 'User', 'externalId', 'Ext Id ü'))).toEqual([id]);
        expect(await store.findByIndex(cid, 'User', 'externalId', 'Ext Id u')).toEqual([]);
        await store.replaceResource(cid, userWrite(id, 'plain'), 1);
        expect(await store.findByIndex(cid, 'User', 'userName', 'zoë ünïcode 😀 例え')).toEqual([]);
        expect(await store.findByIndex(cid, 'User', 'externalId', 'Ext Id ü')).toEqual([]);
      });

      it('deletes a resource with its index entries', async () => {
        const id = await createUser('ann', { externalId: 'e1', emails: ['a@x.com'] });
        const other = await createUser('bob', { externalId: 'e1' });
        expect(await store.deleteResource(cid, 'User', id)).toBe(true);
        expect(await store.deleteResource(cid, 'User', id)).toBe(false);
        expect(await store.getResource(cid, 'User', id)).toBeNull();
        expect(await store.findByIndex(cid, 'User', 'userName', 'ann')).toEqual([]);
        expect(await store.findByIndex(cid, 'User', 'email', 'a@x.com')).toEqual([]);
        expect(ids(await store.findByIndex(cid, 'User', 'externalId', 'e1'))).toEqual([other]);
        expect(await store.listPage(cid, 'User', 0, 10)).toMatchObject({ total: 1 });
        await createUser('ann'); // the unique value is free again
      });

      it('lists resources in creation order with the total, also past the end', async () => {
        const created: string[] = [];
        for (const n of ['e', 'd', 'c', 'b', 'a']) created.push(await createUser(n));
        await store.replaceResource(cid, userWrite(created[0]!, 'e', { json: '{}' }), 1); // order is unchanged
        const page = async (offset: number, count: number) => {
          const p = await store.listPage(cid, 'User', offset, count);
          return { total: p.total, ids: ids(p.resources) };
        };
        expect(await page(0, 2)).toEqual({ total: 5, ids: created.slice(0, 2) });
        expect(await page(2, 2)).toEqual({ total: 5, ids: created.slice(2, 4) });
        expect(await page(4, 10)).toEqual({ total: 5, ids: created.slice(4) });
        expect(await page(5, 1)).toEqual({ total: 5, ids: [] });
        expect(await page(1000, 5)).toEqual({ total: 5, ids: [] });
        expect(await page(0, 0)).toEqual({ total: 5, ids: [] });
        expect(await page(0, Number.MAX_SAFE_INTEGER)).toEqual({ total: 5, ids: created });
        await store.deleteResource(cid, 'User', created[1]!);
        expect(await page(0, 10)).toEqual({ total: 4, ids: created.filter((_, i) => i !== 1) });
        expect(await store.listPage(cid, 'Group', 0, 10)).toEqual({ total: 0, resources: [] });
      });

      it('ends a page early, after at least one resource, once its rows pass rowBytes (listPage only)', async () => {
        // Three users of 40% of the budget each: two fit a page, the third starts the next.
        const rowBytes = 100_000;
        const heavy: string[] = [];
        for (let i = 0; i < 3; i++) {
          const id = randomUUID();
          const json = JSON.stringify({ id, userName: `heavy${i}`, note: 'x'.repeat(rowBytes * 0.4) });
          expect(await store.createResource(cid, userWrite(id, `heavy${i}`, { json }))).toMatchObject({ ok: true });
          heavy.push(id);
        }
        const light = await createUser('light');
        const first = await store.listPage(cid, 'User', 0, 10, { rowBytes });
        expect([first.total, ids(first.resources)]).toEqual([4, heavy.slice(0, 2)]);
        expect(ids((await store.listPage(cid, 'User', 2, 10, { rowBytes })).resources)).toEqual([heavy[2], light]);
        expect(ids((await store.listPage(cid, 'User', 2, 10, { rowBytes, groups: false })).resources)).toEqual([heavy[2], light]);
        // One row over the whole budget still makes a page of one; without rowBytes a page is whole.
        expect(ids((await store.listPage(cid, 'User', 0, 10, { rowBytes: 10 })).resources)).toEqual([heavy[0]]);
        expect(ids((await store.listPage(cid, 'User', 0, 10)).resources)).toEqual([...heavy, light]);
        expect(ids((await store.listSorted(cid, 'User', { attribute: null, descending: true }, 0, 10))!.resources)).toEqual([light, ...[...heavy].reverse()]);
        await expect(store.listPage(cid, 'User', 0, 10, { rowBytes: 0 })).rejects.toThrow(TypeError);
        await expect(store.listPage(cid, 'User', 0, 10, { rowBytes: 1.5 })).rejects.toThrow(TypeError);
      });

      it('holds a cursor page of many rows to PAGE_READ_BYTES as a whole, however many scripts read it (Redis: ROWS_PER_SCRIPT each)', async () => {
        const made = await createWideUsers(600, 'mid', Math.floor(PAGE_READ_BYTES / 400));
        const walked: string[] = [];
        for (let after = 0, pages = 0; ; pages++) {
          expect(pages).toBeLessThan(10);
          const page = await store.listAfter(cid, 'User', after, 1000);
          const bytes = page.resources.reduce((sum, r) => sum + r.json.length, 0);
          expect(bytes).toBeLessThanOrEqual(PAGE_READ_BYTES);
          walked.push(...ids(page.resources));
          if (page.next === null) break;
          expect(page.resources.length).toBeGreaterThan(300);
          after = page.next;
        }
        expect(walked).toEqual(made);
      });

      it('ends every page read, listPage, listSorted and listAfter, past PAGE_READ_BYTES even without rowBytes, and a walk by what came back loses nothing', async () => {
        // Users of 35% of the budget each: a page of ten holds two (Redis sizes the rows before it reads
        // them, so no script copies more than the budget and one row, whatever count asked for).
        const heavy = await createWideUsers(7, 'big', PAGE_READ_BYTES * 0.35);
        const light = await createUser('small');
        const all = [...heavy, light];
        expect(ids((await store.listPage(cid, 'User', 0, 10)).resources)).toEqual(all.slice(0, 2));
        expect(ids((await store.listPage(cid, 'User', 0, 10, { rowBytes: 10 * PAGE_READ_BYTES })).resources)).toEqual(all.slice(0, 2));
        expect(ids((await store.listSorted(cid, 'User', { attribute: null, descending: false }, 0, 10))!.resources)).toEqual(all.slice(0, 2));
        const walked: string[] = [];
        for (let offset = 0, total = Infinity; offset < total;) {
          const page = await store.listPage(cid, 'User', offset, 1000);
          expect(page.resources.length).toBeGreaterThan(0);
          walked.push(...ids(page.resources));
          [offset, total] = [offset + page.resources.length, page.total];
        }
        expect(walked).toEqual(all);
        const byCursor: string[] = [];
        for (let after = 0, pages = 0; ; pages++) {
          expect(pages).toBeLessThan(all.length);
          const page = await store.listAfter(cid, 'User', after, 1000);
          byCursor.push(...ids(page.resources));
          if (page.next === null) break;
          expect(page.resources.length).toBeLessThanOrEqual(2);
          after = page.next;
        }
        expect(byCursor).toEqual(all);
      });

      it('pages users by cursor with their creation numbers, skipping or repeating none as others come and go', async () => {
        const created: string[] = [];
        for (const n of ['e', 'd', 'c']) created.push(await createUser(n));
        const group = await createGroup('Team', [{ value: created[1]! }]); // groups share the numbering, are not listed
        for (const n of ['b', 'a']) created.push(await createUser(n));
        const first = await store.listAfter(cid, 'User', 0, 2);
        expect(ids(first.resources)).toEqual(created.slice(0, 2));
        expect(first.resources[1]!.groups).toEqual([{ value: group, display: 'Team' }]);
        expect(first.resources.map(({ seq: _, ...user }) => user)).toEqual((await store.listPage(cid, 'User', 0, 2)).resources);
        expect(first.resources[0]!.seq).toBeLessThan(first.resources[1]!.seq);
        expect(first.next).toBe(first.resources[1]!.seq);
        // Between pages: the first user goes, a user not yet listed goes, and one is created.
        await store.deleteResource(cid, 'User', created[0]!);
        await store.deleteResource(cid, 'User', created[3]!);
        const late = await createUser('late');
        const rest: string[] = [];
        for (let after: number | null = first.next; after !== null;) {
          const page = await store.listAfter(cid, 'User', after, 1);
          rest.push(...ids(page.resources));
          after = page.next;
        }
        expect(rest).toEqual([created[2], created[4], late]);
        expect(ids((await store.listAfter(cid, 'User', 0, 1000)).resources)).toEqual([created[1], created[2], created[4], late]);
        const groups = await store.listAfter(cid, 'Group', 0, 10);
        expect(groups.resources.map((g) => [g.id, g.members?.length, typeof g.seq])).toEqual([[group, 1, 'number']]);
        expect(await store.listAfter('conn-unknown', 'User', 0, 10)).toEqual({ resources: [], next: null });
      });

      it('rejects negative or fractional paging', async () => {
        await expect(store.listPage(cid, 'User', -1, 10)).rejects.toThrow(TypeError);
        await expect(store.listPage(cid, 'User', 0, 1.5)).rejects.toThrow(TypeError);
      });

      it('rejects malformed writes', async () => {
        await expect(store.createResource(cid, userWrite('a b', 'ann'))).rejects.toThrow(TypeError);
        await expect(store.createResource(cid, { ...userWrite('u1', 'ann'), members: [] })).rejects.toThrow(TypeError);
        await expect(store.createResource(cid, { ...userWrite('u1', 'ann'), kind: 'Thing' as 'User' })).rejects.toThrow(TypeError);
        expect(await store.getResource(cid, 'User', 'u1')).toBeNull();
      });
    });

    describe('sort indexes', () => {
      // A store may keep sort entries only once a client first sorts (the Redis store): switch them on, as
      // the SCIM layer's first sortBy does, while the kinds are still empty.
      beforeEach(async () => {
        for (const kind of ['User', 'Group'] as const) expect(await store.sortBacklog(cid, kind, 1)).toMatchObject({ done: true });
      });
      type Sorting = Record<string, string | null>;
      /** A user write sorting by `sorting` (attribute → value; null: no value). */
      const sortedUser = (id: string, userName: string, sorting: Sorting): ResourceWrite => ({
        ...userWrite(id, userName),
        sortKeys: Object.entries(sorting).map(([attribute, value]) => ({ attribute, value })),
      });
      /** Creates users in this order; answers their ids. */
      const createSorted = async (rows: Sorting[]): Promise<string[]> => {
        const created: string[] = [];
        for (const [i, sorting] of rows.entries()) {
          const id = `s${i}-${randomUUID()}`;
          expect(await store.createResource(cid, sortedUser(id, `user${i}`, sorting))).toEqual({ ok: true, version: 1 });
          created.push(id);
        }
        return created;
      };
      /**
       * listSorted's order, computed the obvious way: values as JavaScript compares them, ties by creation,
       * then the nulls by creation; descending is the reverse, nulls first (RFC 7644 §3.4.2.3).
       */
      const reference = (created: string[], values: (string | null)[], descending: boolean): string[] => {
        const rows = created.map((id, position) => ({ id, value: values[position]!, position }));
        const present = rows.filter((r) => r.value !== null).sort((a, b) => (a.value! < b.value! ? -1 : a.value! > b.value! ? 1 : a.position - b.position));
        const ascending = [...present, ...rows.filter((r) => r.value === null)].map((r) => r.id);
        return descending ? ascending.reverse() : ascending;
      };
      const page = async (attribute: string | null, descending: boolean, offset: number, count: number) => {
        const p = await store.listSorted(cid, 'User', { attribute, descending }, offset, count);
        return p && { total: p.total, ids: ids(p.resources) };
      };
      /** Every page of every size up to the total, both ways, equals the reference. */
      const expectOrder = async (attribute: string, created: string[], values: (string | null)[]) => {
        for (const descending of [false, true]) {
          const want = reference(created, values, descending);
          expect(await page(attribute, descending, 0, 1000)).toEqual({ total: want.length, ids: want });
          for (let offset = 0; offset <= want.length; offset++) {
            for (const count of [0, 1, 2, 3, 7]) {
              expect(await page(attribute, descending, offset, count), `${descending} ${offset} ${count}`).toEqual({
                total: want.length,
                ids: want.slice(offset, offset + count),
              });
            }
          }
        }
      };

      it('orders by value with ties in creation order, values without a value last both ways, and pages at any offset', async () => {
        const values = ['b', 'a', null, 'b', 'c', null, 'a', '', 'B', 'ab', 'b'];
        const created = await createSorted(values.map((v) => ({ title: v })));
        await expectOrder('title', created, values);
        expect(await page('title', false, 11, 5)).toEqual({ total: 11, ids: [] });
        expect(await page('title', true, 1000, Number.MAX_SAFE_INTEGER)).toEqual({ total: 11, ids: [] });
      });

      it('compares values as JavaScript compares strings: code units, prefixes first, NUL and lone surrogates included', async () => {
        const values = [
          'a',
          'a\u0000',
          'a\u0000b',
          'a\u0000!',
          '\uffff',
          '\ud83d\ude00',
          '\ue000',
          '\ud800',
          '\udfff',
          'ab',
          '',
          'Ä',
          'ä',
          'z',
          '\u0001',
          '\ud7ff',
        ];
        const created = await createSorted(values.map((v) => ({ k: v })));
        const asc = reference(created, values, false);
        expect(asc.map((id) => values[created.indexOf(id)])).toEqual([...values].sort());
        await expectOrder('k', created, values);
      });

      it('keeps every attribute in its own order, and lists only the resources whose write carried it', async () => {
        const created = await createSorted([{ a: 'x', b: '2' }, { a: 'w' }, { b: '1', a: null }]);
        expect(await page('a', false, 0, 10)).toEqual({ total: 3, ids: [created[1], created[0], created[2]] });
        expect(await page('b', false, 0, 10)).toEqual({ total: 2, ids: [created[2], created[0]] });
        expect(await page('c', false, 0, 10)).toEqual({ total: 0, ids: [] });
        // A user written without sort entries is in no sort index, and in creation order like every user.
        const plain = await createUser('plain');
        expect(await page('a', false, 0, 10)).toMatchObject({ total: 3 });
        expect(await page(null, false, 0, 10)).toEqual({ total: 4, ids: [...created, plain] });
      });

      it('moves a replaced resource to its new value, and a deleted one out', async () => {
        const values: (string | null)[] = ['m', 'c', 'x', null, 'c'];
        const created = await createSorted(values.map((v) => ({ k: v })));
        const replace = async (i: number, value: string | null | undefined) => {
          const sorting: Sorting = value === undefined ? {} : { k: value };
          const current = await store.getResource(cid, 'User', created[i]!);
          expect(await store.replaceResource(cid, sortedUser(created[i]!, `user${i}`, sorting), current!.version)).toMatchObject({ ok: true });
        };
        await replace(0, 'a');
        values[0] = 'a';
        await replace(3, 'd');
        values[3] = 'd';
        await replace(1, null);
        values[1] = null;
        await replace(2, 'x'); // unchanged value: stays where it is
        await expectOrder('k', created, values);
        await replace(4, undefined); // the write no longer carries the attribute
        expect(await page('k', false, 0, 10)).toEqual({ total: 4, ids: reference(created.slice(0, 4), values.slice(0, 4), false) });
        await replace(4, 'b');
        values[4] = 'b';
        await expectOrder('k', created, values);
        expect(await store.deleteResource(cid, 'User', created[0]!)).toBe(true);
        expect(await store.deleteResource(cid, 'User', created[1]!)).toBe(true);
        await expectOrder('k', created.slice(2), values.slice(2));
      });

      it('lists by creation, oldest or newest first, every resource counted', async () => {
        const created = await createSorted([{}, { k: 'a' }, {}, {}, { k: 'b' }]);
        expect(await page(null, false, 0, 10)).toEqual({ total: 5, ids: created });
        expect(await page(null, true, 0, 10)).toEqual({ total: 5, ids: [...created].reverse() });
        expect(await page(null, true, 1, 2)).toEqual({ total: 5, ids: [created[3], created[2]] });
        expect(await page(null, true, 4, 2)).toEqual({ total: 5, ids: [created[0]] });
        expect(await page(null, false, 5, 2)).toEqual({ total: 5, ids: [] });
        await store.deleteResource(cid, 'User', created[4]!);
        expect(await page(null, true, 0, 2)).toEqual({ total: 4, ids: [created[3], created[2]] });
      });

      it('answers resources as the other reads do: users with their groups, groups with or without members', async () => {
        const [uid] = await createSorted([{ k: 'u' }]);
        const gid = randomUUID();
        const write: ResourceWrite = { ...groupWrite(gid, 'Admins', [{ value: uid! }]), sortKeys: [{ attribute: 'displayName', value: 'admins' }] };
        expect(await store.createResource(cid, write)).toMatchObject({ ok: true });
        const users = await store.listSorted(cid, 'User', { attribute: 'k', descending: false }, 0, 10);
        expect(users?.resources).toEqual([await store.getResource(cid, 'User', uid!)]);
        const groups = await store.listSorted(cid, 'Group', { attribute: 'displayName', descending: true }, 0, 10);
        expect(groups?.resources).toEqual([await store.getResource(cid, 'Group', gid)]);
        const bare = await store.listSorted(cid, 'Group', { attribute: null, descending: false }, 0, 10, { members: false });
        expect(bare?.resources).toEqual([await store.getResource(cid, 'Group', gid, { members: false })]);
        expect(await store.listSorted(cid, 'User', { attribute: 'displayName', descending: false }, 0, 10)).toEqual({ total: 0, resources: [] });
      });

      it('finds users stored with sort entries in a login batch (the matching report), as the single lookup does', async () => {
        const [uid] = await createSorted([{ k: 'u' }]);
        const [answer] = await store.findUsersForLoginBatch(cid, [{ attribute: 'userName', value: 'user0' }]);
        const { users } = await store.findUsersForLogin(cid, 'userName', 'user0');
        expect(ids(answer!.users)).toEqual([uid]);
        expect(answer!.users.map(({ seq: _seq, ...user }) => user)).toEqual(users);
      });

      it('keeps sort indexes within their connection, drops them with it, and answers an unknown connection empty', async () => {
        const other = makeConnection();
        await store.createConnection(other);
        await store.sortBacklog(other.connectionId, 'User', 1);
        await createSorted([{ k: 'a' }]);
        expect(await store.createResource(other.connectionId, sortedUser('o1', 'x', { k: '0' }))).toMatchObject({ ok: true });
        expect(ids((await store.listSorted(other.connectionId, 'User', { attribute: 'k', descending: false }, 0, 10))!.resources)).toEqual(['o1']);
        await store.deleteConnection(other.connectionId);
        expect(await store.listSorted(other.connectionId, 'User', { attribute: 'k', descending: false }, 0, 10)).toEqual({ total: 0, resources: [] });
        expect(await store.listSorted('nobody', 'User', { attribute: null, descending: false }, 0, 10)).toEqual({ total: 0, resources: [] });
        expect(await page('k', false, 0, 10)).toMatchObject({ total: 1 });
      });

      it('has no backlog for what it stored itself', async () => {
        await createSorted([{ k: 'a' }, {}]);
        expect(await store.sortBacklog(cid, 'User', 10)).toMatchObject({ done: true, resources: [] });
        expect(await store.sortBacklog(cid, 'Group', 10)).toMatchObject({ done: true, resources: [] });
      });

      it('rejects malformed sort entries, orders and paging', async () => {
        await expect(store.createResource(cid, sortedUser('u1', 'ann', { k: 'a' }))).resolves.toMatchObject({ ok: true });
        const twice: ResourceWrite = {
          ...userWrite('u2', 'bob'),
          sortKeys: [
            { attribute: 'k', value: 'a' },
            { attribute: 'k', value: 'b' },
          ],
        };
        await expect(store.createResource(cid, twice)).rejects.toThrow(TypeError);
        const notString = { ...userWrite('u2', 'bob'), sortKeys: [{ attribute: 'k', value: 5 }] } as unknown as ResourceWrite;
        await expect(store.createResource(cid, notString)).rejects.toThrow(TypeError);
        const badName: ResourceWrite = { ...userWrite('u2', 'bob'), sortKeys: [{ attribute: 'a\u0000b', value: 'x' }] };
        await expect(store.createResource(cid, badName)).rejects.toThrow(TypeError);
        expect(await store.getResource(cid, 'User', 'u2')).toBeNull();
        await expect(store.listSorted(cid, 'User', { attribute: 'k', descending: false }, -1, 10)).rejects.toThrow(TypeError);
        await expect(store.listSorted(cid, 'User', { attribute: '', descending: false }, 0, 10)).rejects.toThrow(TypeError);
        await expect(store.listSorted(cid, 'User', { attribute: 'k' } as never, 0, 10)).rejects.toThrow(TypeError);
      });
    });

    describe('sort indexes switched on late', () => {
      it('keeps none before the first sortBacklog, then indexes what was stored in slices, writes included', async () => {
        const sortKeys = new Map<string, { attribute: string; value: string }[]>();
        const write = (i: number, value: string): ResourceWrite => {
          sortKeys.set(`late${i}`, [{ attribute: 'k', value }]);
          return { ...userWrite(`late${i}`, `late-user${i}`), sortKeys: sortKeys.get(`late${i}`)! };
        };
        for (let i = 0; i < 5; i++) expect(await store.createResource(cid, write(i, String(9 - i)))).toMatchObject({ ok: true });
        const byK = () => store.listSorted(cid, 'User', { attribute: 'k', descending: false }, 0, 10);
        expect(await byK()).toBeNull();
        expect(ids((await store.listSorted(cid, 'User', { attribute: null, descending: false }, 0, 10))!.resources)).toHaveLength(5);
        let slices = 0;
        for (;;) {
          const backlog = await store.sortBacklog(cid, 'User', 2);
          if (backlog.done) break;
          slices++;
          expect(await byK()).toBeNull();
          if (slices === 1) {
            // Between slices: a write to a user behind the cursor, one ahead of it, and a new user.
            expect(await store.replaceResource(cid, write(0, '0'), 1)).toMatchObject({ ok: true });
            expect(await store.replaceResource(cid, write(4, '9'), 1)).toMatchObject({ ok: true });
            expect(await store.createResource(cid, write(5, '7'))).toMatchObject({ ok: true });
          }
          const fills = backlog.resources.map((r) => ({ id: r.id, version: r.version, sortKeys: sortKeys.get(r.id)! }));
          const filled = await store.fillSortIndex(cid, 'User', backlog.through, fills);
          if (filled === 'done') break;
          expect(slices).toBeLessThan(10);
        }
        expect(slices).toBeGreaterThanOrEqual(2);
        expect(ids((await byK())!.resources)).toEqual(['late0', 'late3', 'late2', 'late5', 'late1', 'late4']);
      });
    });

    describe('groups', () => {
      it('keeps members in the order given, drops repeated values and keeps unknown ids', async () => {
        const a = await createUser('a');
        const b = await createUser('b');
        const members: StoredMember[] = [
          { value: b, display: 'B', type: 'User' },
          { value: 'no-such-user' },
          { value: a, type: 'User' },
          { value: b, display: 'again' },
        ];
        const gid = await createGroup('Team', members);
        expect(await store.getResource(cid, 'Group', gid)).toEqual({
          id: gid,
          kind: 'Group',
          json: JSON.stringify({ id: gid, displayName: 'Team' }),
          version: 1,
          members: members.slice(0, 3),
          memberCount: 3,
        });
        const reordered = [{ value: a }, { value: 'new' }, { value: b, display: 'B2' }];
        expect(await store.replaceResource(cid, groupWrite(gid, 'Team', reordered), 1)).toEqual({ ok: true, version: 2 });
        expect((await store.getResource(cid, 'Group', gid))?.members).toEqual(reordered);
      });

      it('leaves out the members of groups larger than membersUpTo in every read, their count kept', async () => {
        const small = await createGroup('Small', [{ value: 'a' }, { value: 'b' }]);
        const large = await createGroup('Large', [{ value: 'a' }, { value: 'b' }, { value: 'c' }]);
        const upTo = { membersUpTo: 2 };
        const shape = (groups: StoredResource[]) => groups.map((g) => [g.id, g.memberCount, g.members?.length]);
        const expected = [
          [small, 2, 2],
          [large, 3, undefined],
        ];
        expect(shape([(await store.getResource(cid, 'Group', small, upTo))!, (await store.getResource(cid, 'Group', large, upTo))!])).toEqual(expected);
        expect(shape((await store.listPage(cid, 'Group', 0, 10, upTo)).resources)).toEqual(expected);
        expect(shape((await store.listAfter(cid, 'Group', 0, 10, upTo)).resources)).toEqual(expected);
        expect(shape(await store.findByIndex(cid, 'Group', 'displayName', 'large', upTo))).toEqual([expected[1]]);
        expect(shape(await store.findGroupsWithMember(cid, 'c', upTo))).toEqual([expected[1]]);
        expect(shape((await store.listPage(cid, 'Group', 0, 10)).resources)).toEqual([expected[0], [large, 3, 3]]);
      });

      it('derives user.groups with group display names, in group creation order', async () => {
        const uid = await createUser('ann');
        const second = randomUUID();
        const first = await createGroup('First');
        await store.createResource(cid, groupWrite(second, 'Second', [{ value: uid }]));
        await store.replaceResource(cid, groupWrite(first, 'First', [{ value: uid }]), 1);
        const user = await store.getResource(cid, 'User', uid);
        expect(user?.groups).toEqual([
          { value: first, display: 'First' },
          { value: second, display: 'Second' },
        ]);
        expect((await store.findByIndex(cid, 'User', 'userName', 'ann'))[0]?.groups).toEqual(user?.groups);
        expect((await store.listPage(cid, 'User', 0, 1)).resources[0]?.groups).toEqual(user?.groups);
      });

      it('reads a session user with the names of its first groups only, and its JSON only when its version moved', async () => {
        const uid = await createUser('ann');
        expect(await store.readSessionUser(cid, 'no-such-user', { knownVersion: null, namedBytes: 1_000 })).toBeNull();
        expect(await store.readSessionUser(cid, uid, { knownVersion: null, namedBytes: 1_000 })).toEqual({
          version: 1,
          json: (await store.getResource(cid, 'User', uid))!.json,
          groups: [],
          moreGroupIds: [],
        });
        // 20 groups of 500-character names: the first budget's worth named, the rest ids alone.
        const gids: string[] = [];
        for (let i = 0; i < 20; i++) gids.push(await createGroup(`${String(i).padStart(2, '0')}${'n'.repeat(498)}`, [{ value: uid }]));
        const whole = (await store.getResource(cid, 'User', uid))!;
        const read = (await store.readSessionUser(cid, uid, { knownVersion: null, namedBytes: 3_000 }))!;
        expect(read.version).toBe(whole.version);
        expect(read.json).toBe(whole.json);
        const spent = read.groups.reduce((sum, g) => sum + sessionGroupBytes(g.value, g.display), 0);
        expect(spent).toBeLessThanOrEqual(3_000);
        expect(spent + sessionGroupBytes(gids[read.groups.length]!, whole.groups![read.groups.length]!.display)).toBeGreaterThan(3_000);
        expect(read.groups).toEqual(whole.groups!.slice(0, read.groups.length));
        expect(read.groups.length).toBe(5);
        expect(read.moreGroupIds).toEqual(gids.slice(5));
        // The version the caller knows: no JSON; groups as ever (a rename moves no version).
        await store.replaceResource(cid, groupWrite(gids[0]!, 'Renamed', [{ value: uid }]), 1);
        expect(await store.readSessionUser(cid, uid, { knownVersion: whole.version, namedBytes: 3_000 })).toMatchObject({
          version: whole.version,
          json: null,
          groups: expect.arrayContaining([{ value: gids[0], display: 'Renamed' }]),
        });
        // A write moves the version: the JSON comes again.
        await store.replaceResource(cid, userWrite(uid, 'ann', { json: JSON.stringify({ id: uid, userName: 'ann', active: false }) }), whole.version);
        expect(await store.readSessionUser(cid, uid, { knownVersion: whole.version, namedBytes: 0 })).toEqual({
          version: whole.version + 1,
          json: JSON.stringify({ id: uid, userName: 'ann', active: false }),
          groups: [],
          moreGroupIds: gids,
        });
        await store.deleteResource(cid, 'User', uid);
        expect(await store.readSessionUser(cid, uid, { knownVersion: whole.version + 1, namedBytes: 3_000 })).toBeNull();
      });

      it('reflects a group rename in its members’ groups without bumping the users again', async () => {
        const uid = await createUser('ann');
        const gid = await createGroup('Old', [{ value: uid }]);
        await store.replaceResource(cid, groupWrite(gid, 'New', [{ value: uid }]), 1);
        expect(await store.getResource(cid, 'User', uid)).toMatchObject({
          version: 2, // joining Old bumped it; the rename does not
          groups: [{ value: gid, display: 'New' }],
        });
        expect(await store.findByIndex(cid, 'Group', 'displayName', 'old')).toEqual([]);
        expect(ids(await store.findByIndex(cid, 'Group', 'displayName', 'new'))).toEqual([gid]);
      });

      it('updates users’ groups when a group’s member list is replaced', async () => {
        const a = await createUser('a');
        const b = await createUser('b');
        const gid = await createGroup('Team', [{ value: a }]);
        await store.replaceResource(cid, groupWrite(gid, 'Team', [{ value: b }]), 1);
        expect((await store.getResource(cid, 'User', a))?.groups).toEqual([]);
        expect((await store.getResource(cid, 'User', b))?.groups).toEqual([{ value: gid, display: 'Team' }]);
      });

      it('removes a deleted user from every group and bumps those groups’ versions', async () => {
        const a = await createUser('a');
        const b = await createUser('b');
        const g1 = await createGroup('One', [{ value: a }, { value: b }]);
        const g2 = await createGroup('Two', [{ value: a }]);
        const g3 = await createGroup('Three', [{ value: b }]);
        expect(await store.deleteResource(cid, 'User', a)).toBe(true);
        expect(await store.getResource(cid, 'Group', g1)).toMatchObject({ version: 2, members: [{ value: b }] });
        expect(await store.getResource(cid, 'Group', g2)).toMatchObject({ version: 2, members: [] });
        expect(await store.getResource(cid, 'Group', g3)).toMatchObject({ version: 1, members: [{ value: b }] });
        // A user re-created with the same id starts with no memberships.
        await store.createResource(cid, userWrite(a, 'a'));
        expect((await store.getResource(cid, 'User', a))?.groups).toEqual([]);
      });

      it('removes a deleted group from its parent groups and from its members’ groups', async () => {
        const uid = await createUser('ann');
        const child = await createGroup('Child', [{ value: uid }]);
        const parent = await createGroup('Parent', [{ value: child, type: 'Group' }, { value: uid }]);
        expect(await store.deleteResource(cid, 'Group', child)).toBe(true);
        expect(await store.getResource(cid, 'Group', parent)).toMatchObject({ version: 2, members: [{ value: uid }] });
        expect((await store.getResource(cid, 'User', uid))?.groups).toEqual([{ value: parent, display: 'Parent' }]);
        expect(await store.findByIndex(cid, 'Group', 'displayName', 'child')).toEqual([]);
        await createGroup('Child'); // its unique displayName is free again
      });

      it('finds every heavy group listing a member, exactly as stored (Redis reads those past PAGE_READ_BYTES by further scripts)', async () => {
        const note = 'x'.repeat(PAGE_READ_BYTES * 0.4);
        const groups: string[] = [];
        for (let i = 0; i < 4; i++) {
          const gid = randomUUID();
          const write = { ...groupWrite(gid, `Heavy ${i}`, [{ value: 'heavy-member' }]), json: JSON.stringify({ id: gid, displayName: `Heavy ${i}`, note }) };
          expect(await store.createResource(cid, write)).toMatchObject({ ok: true });
          groups.push(gid);
        }
        const found = await store.findGroupsWithMember(cid, 'heavy-member', { members: false });
        expect(found).toEqual(await Promise.all(groups.map((gid) => store.getResource(cid, 'Group', gid, { members: false }))));
        expect(found.every((g) => g.json.includes(note))).toBe(true);
      });

      it('finds the groups listing a member value, in creation order, exactly as stored, as the member lists change', async () => {
        const uid = await createUser('ann');
        const later = randomUUID();
        const first = await createGroup('First', [{ value: 'no-such-user' }]);
        await store.createResource(cid, groupWrite(later, 'Later', [{ value: uid }, { value: 'Mixed-Case' }]));
        await store.replaceResource(cid, groupWrite(first, 'First', [{ value: uid }, { value: 'no-such-user' }]), 1);
        expect(await store.findGroupsWithMember(cid, uid, { members: false })).toEqual([
          await store.getResource(cid, 'Group', first, { members: false }),
          await store.getResource(cid, 'Group', later, { members: false }),
        ]);
        expect(await store.findGroupsWithMember(cid, uid)).toEqual([
          await store.getResource(cid, 'Group', first),
          await store.getResource(cid, 'Group', later),
        ]);
        expect(ids(await store.findGroupsWithMember(cid, 'no-such-user'))).toEqual([first]);
        expect(ids(await store.findGroupsWithMember(cid, 'Mixed-Case'))).toEqual([later]);
        expect(await store.findGroupsWithMember(cid, 'mixed-case')).toEqual([]);
        expect(await store.findGroupsWithMember(cid, 'nobody')).toEqual([]);
        expect(await store.findGroupsWithMember('no-such-connection', uid)).toEqual([]);
        const change = { ...groupWrite(first, 'First'), members: undefined, memberChanges: { remove: [uid], add: [] } };
        expect(await store.replaceResource(cid, change, 2)).toMatchObject({ ok: true });
        expect(ids(await store.findGroupsWithMember(cid, uid))).toEqual([later]);
        expect(await store.deleteResource(cid, 'Group', later)).toBe(true);
        expect(await store.findGroupsWithMember(cid, uid)).toEqual([]);
      });

      it('deletes a group that lists itself', async () => {
        const gid = randomUUID();
        await store.createResource(cid, groupWrite(gid, 'Loop', [{ value: gid }]));
        expect(await store.deleteResource(cid, 'Group', gid)).toBe(true);
        expect(await store.getResource(cid, 'Group', gid)).toBeNull();
        await store.createResource(cid, groupWrite(gid, 'Loop'));
        expect(await store.getResource(cid, 'Group', gid)).toMatchObject({ version: 1, members: [] });
      });
    });

    describe('cursor pages (listAfter, listGroupMembersAfter)', () => {
      /** Every resource of a kind through listAfter in pages of `size`, and the pages' sizes. */
      const walk = async (kind: 'User' | 'Group', size: number, between?: (page: number) => Promise<void>): Promise<string[]> => {
        const ids: string[] = [];
        let after = 0;
        for (let page = 0; ; page++) {
          const read = await store.listAfter(cid, kind, after, size, { members: false });
          ids.push(...read.resources.map((r) => r.id));
          if (read.next === null) return ids;
          expect(read.resources).toHaveLength(size);
          after = read.next;
          await between?.(page);
        }
      };

      it('walks users in creation order, each exactly once, whatever the page size; groups apart', async () => {
        const users: string[] = [];
        for (let i = 0; i < 23; i++) users.push(await createUser(`walk${i}@x.test`));
        const group = await createGroup('G');
        for (const size of [1, 5, 23, 24, 1000]) expect(await walk('User', size)).toEqual(users);
        expect(await walk('Group', 10)).toEqual([group]);
        const first = await store.listAfter(cid, 'User', 0, 2);
        expect(first.resources.map((r) => [r.id, r.version])).toEqual([
          [users[0], 1],
          [users[1], 1],
        ]);
        expect(first.resources[0]!.json).toContain('walk0@x.test');
        expect(await store.listAfter('no-such-connection', 'User', 0, 10)).toEqual({ resources: [], next: null });
      });

      it('is stable under writes between pages: existing ones once, deleted ones gone, created ones at the end', async () => {
        const users: string[] = [];
        for (let i = 0; i < 12; i++) users.push(await createUser(`stable${i}@x.test`));
        const created: string[] = [];
        const seen = await walk('User', 4, async (page) => {
          if (page === 0) {
            expect(await store.deleteResource(cid, 'User', users[1]!)).toBe(true); // already read
            expect(await store.deleteResource(cid, 'User', users[6]!)).toBe(true); // not read yet
            created.push(await createUser(`late@x.test`));
          }
        });
        expect(seen).toEqual([...users.filter((id) => id !== users[6]), ...created]);
      });

      it('picks users by position (pickUsersAfter): every position as listAfter pages them, in full only those wanted', async () => {
        const users: string[] = [];
        for (let i = 0; i < 9; i++) users.push(await createUser(`pick${i}@x.test`));
        const group = await createGroup('Pickers', [{ value: users[4]! }]); // shares the numbering, not listed
        await store.deleteResource(cid, 'User', users[2]!);
        const listed = (await store.listAfter(cid, 'User', 0, 1000)).resources;
        const asked: number[] = [];
        const first = await store.pickUsersAfter(cid, 0, 5, (seq) => (asked.push(seq), seq % 2 === 0));
        expect(first.seqs).toEqual(listed.slice(0, 5).map((u) => u.seq));
        expect(asked).toEqual(first.seqs);
        expect(first.users).toEqual(listed.slice(0, 5).filter((u) => u.seq % 2 === 0));
        expect(first.next).toBe(first.seqs.at(-1));
        const withGroup = await store.pickUsersAfter(cid, 0, 1000, (seq) => seq === listed[3]!.seq);
        expect(withGroup.users.map((u) => [u.id, u.groups])).toEqual([[users[4], [{ value: group, display: 'Pickers' }]]]);
        const bare = await store.pickUsersAfter(cid, 0, 1000, (seq) => seq === listed[3]!.seq, { groups: false });
        const listedBare = (await store.listAfter(cid, 'User', 0, 1000, { groups: false })).resources;
        expect(bare.users).toEqual(listedBare.filter((u) => u.seq === listed[3]!.seq));
        expect(bare.users[0]).not.toHaveProperty('groups');
        // Each position's folded userName, from the index entries, when asked (the report's domain count).
        const upper = await createUser('Pick.Upper@X.TEST');
        const named = await store.pickUsersAfter(cid, first.next!, 1000, () => false, { userNames: true });
        expect(named.userNames).toEqual([...listed.slice(5).map((u) => (JSON.parse(u.json) as { userName: string }).userName), 'pick.upper@x.test']);
        expect(named.seqs).toHaveLength(named.userNames!.length);
        // Only the names of the positions a userNames function accepts; '' for the others.
        const some = await store.pickUsersAfter(cid, first.next!, 1000, () => false, { userNames: (seq) => seq % 2 === 1 });
        expect(some.seqs).toEqual(named.seqs);
        expect(some.userNames).toEqual(named.userNames!.map((name, i) => (named.seqs[i]! % 2 === 1 ? name : '')));
        expect(some.userNames!.filter((name) => name !== '').length).toBeGreaterThan(0);
        expect(some.userNames!.filter((name) => name === '').length).toBeGreaterThan(0);
        expect(await store.deleteResource(cid, 'User', upper)).toBe(true);
        const rest = await store.pickUsersAfter(cid, first.next!, 1000, () => true);
        expect(rest.seqs).toEqual(listed.slice(5).map((u) => u.seq));
        expect(rest.users).toEqual(listed.slice(5));
        expect(rest.next).toBeNull();
        expect(await store.pickUsersAfter(cid, 0, 1000, () => false)).toEqual({ seqs: listed.map((u) => u.seq), users: [], next: null });
        expect(await store.pickUsersAfter('no-such-connection', 0, 10, () => true)).toEqual({ seqs: [], users: [], next: null });
        for (const [after, count] of [
          [-1, 10],
          [0, 0],
          [0, 1001],
        ] as const) {
          await expect(store.pickUsersAfter(cid, after, count, () => true)).rejects.toThrow(TypeError);
        }
      });

      it('ends a picked page at the last wanted user PAGE_READ_BYTES held, and a walk by what came back loses nobody', async () => {
        // Users of 35% of the budget each, every other one wanted: a page holds two of the wanted ones.
        const made = await createWideUsers(8, 'wide', PAGE_READ_BYTES * 0.35);
        const listed = (await store.listAfter(cid, 'User', 0, 1)).resources;
        const wanted = (seq: number) => (seq - listed[0]!.seq) % 2 === 1;
        const first = await store.pickUsersAfter(cid, 0, 1000, wanted);
        expect(first.users.map((u) => u.id)).toEqual([made[1], made[3]]);
        expect(first.seqs).toHaveLength(4);
        expect(first.next).toBe(first.users[1]!.seq);
        const positions: number[] = [...first.seqs];
        const picked: string[] = first.users.map((u) => u.id);
        for (let after: number | null = first.next, pages = 0; after !== null; pages++) {
          expect(pages).toBeLessThan(8);
          const page = await store.pickUsersAfter(cid, after, 1000, wanted);
          positions.push(...page.seqs);
          picked.push(...page.users.map((u) => u.id));
          after = page.next;
        }
        expect(positions).toHaveLength(8);
        expect(picked).toEqual([made[1], made[3], made[5], made[7]]);
      });

      it('refuses bad paging arguments', async () => {
        for (const [after, count] of [
          [-1, 10],
          [0, 0],
          [0, 1001],
          [1.5, 10],
        ] as const) {
          await expect(store.listAfter(cid, 'User', after, count)).rejects.toThrow(TypeError);
          await expect(store.listGroupMembersAfter(cid, 'g', after, count)).rejects.toThrow(TypeError);
        }
      });

      it.each([
        ['short', 10],
        ['long (staged on Redis, settled in slices in memory)', 2_500],
      ])('misses no member present throughout a walk across a %s full-list write (a PUT, Okta’s replace)', async (_name, size) => {
        const members = Array.from({ length: size }, (_, i) => ({ value: `mem${i}` }));
        const gid = await createGroup('Walked', members);
        // The IdP removed some members, then sends back the list it has (every other member kept) plus one.
        const removed = new Set(members.slice(1, 5).map((m) => m.value));
        const kept = members.filter((m) => !removed.has(m.value));
        const cut = { ...groupWrite(gid, 'Walked'), members: undefined, memberChanges: { remove: [...removed], add: [] } };
        expect(await store.replaceResource(cid, cut, 1)).toMatchObject({ ok: true, version: 2 });
        const page = Math.ceil(size / 4);
        const first = (await store.listGroupMembersAfter(cid, gid, 0, page))!;
        const seen = first.members.map((m) => m.value);
        expect(await store.replaceResource(cid, groupWrite(gid, 'Walked', [...kept, { value: 'newcomer' }]), 2)).toMatchObject({ ok: true, version: 3 });
        for (let after = first.next; after !== null;) {
          const read = (await store.listGroupMembersAfter(cid, gid, after, page))!;
          seen.push(...read.members.map((m) => m.value));
          after = read.next;
        }
        const seenSet = new Set(seen);
        expect(kept.filter((m) => !seenSet.has(m.value))).toEqual([]);
        expect(seenSet.has('newcomer')).toBe(true);
        // The list itself is the one written, in its order.
        const all = (await store.getResource(cid, 'Group', gid))!.members!.map((m) => m.value);
        expect(all).toEqual([...kept.map((m) => m.value), 'newcomer']);
      });

      it('walks a group’s members in list order, stable under removals and additions between pages', async () => {
        const members = Array.from({ length: 30 }, (_, i) => ({ value: `mem${i}`, ...(i % 4 === 0 ? { display: `Mem ${i}` } : {}) }));
        const gid = await createGroup('Big', members);
        expect(await store.listGroupMembersAfter(cid, 'nope', 0, 10)).toBeNull();
        const seen: string[] = [];
        let after = 0;
        let version = 1;
        for (let page = 0; ; page++) {
          const read = (await store.listGroupMembersAfter(cid, gid, after, 7))!;
          if (page === 0) expect(read).toMatchObject({ version: 1, total: 30, members: members.slice(0, 7) });
          seen.push(...read.members.map((m) => m.value));
          if (read.next === null) break;
          after = read.next;
          if (page === 1) {
            const write = { ...groupWrite(gid, 'Big'), members: undefined, memberChanges: { remove: ['mem0', 'mem20', 'mem29'], add: [{ value: 'new1' }] } };
            expect(await store.replaceResource(cid, write, version)).toEqual({ ok: true, version: ++version });
          }
        }
        const expected = members.map((m) => m.value).filter((v) => v !== 'mem20' && v !== 'mem29');
        expect(seen).toEqual([...expected, 'new1']);
      });
    });

    describe('member changes, member pages and user versions', () => {
      it('removes a member deleted while the long swap that adds it settles, from the group and its pages', async () => {
        const [joining, staying] = await Promise.all([createUser('joining@x.test'), createUser('staying@x.test')]);
        const values = (prefix: string) => Array.from({ length: 6_000 }, (_, i) => ({ value: `${prefix}-${i}` }));
        const gid = await createGroup('Big', values('v'));
        let answered = false;
        const swap = store.replaceResource(cid, groupWrite(gid, 'Big', [...values('w'), { value: joining }, { value: staying }]), 1).then((outcome) => {
          answered = true;
          return outcome;
        });
        while ((await store.getResource(cid, 'Group', gid, { members: false }))?.version !== 2) await new Promise((resolve) => setImmediate(resolve));
        expect(answered).toBe(false);
        // The group lists the new member already; its reverse entry is not written yet.
        expect(await store.deleteResource(cid, 'User', joining)).toBe(true);
        expect(await swap).toMatchObject({ ok: true, version: 2 });
        const group = await store.getResource(cid, 'Group', gid);
        expect(group?.members?.some((m) => m.value === joining)).toBe(false);
        expect(group?.memberCount).toBe(6_001);
        expect(group!.version).toBeGreaterThan(2);
        expect(await store.findGroupsWithMember(cid, joining)).toEqual([]);
        expect((await store.getResource(cid, 'User', staying))?.groups).toEqual([{ value: gid, display: 'Big' }]);
      });

      it('moves every member of a long swap or deletion, and keeps a write to the group made while it settles', async () => {
        // A list long enough to be settled over several steps on both stores (memory: SETTLE_SLICE; Redis:
        // the settle job's batches), with real users at its end (settled last) whose groups and versions are
        // read back.
        const users = await Promise.all(Array.from({ length: 6 }, (_, i) => createUser(`settle${i}@x.test`)));
        const values = (prefix: string) => Array.from({ length: 6_000 }, (_, i) => ({ value: `${prefix}-${i}` }));
        const gid = await createGroup('Big', [...values('v'), ...users.map((value) => ({ value }))]);
        const before = await Promise.all(users.map((id) => store.getResource(cid, 'User', id)));
        for (const u of before) expect(u?.groups).toEqual([{ value: gid, display: 'Big' }]);

        let answered = false;
        const swap = store
          .replaceResource(cid, groupWrite(gid, 'Big', [...values('w'), ...users.slice(0, 3).map((value) => ({ value }))]), 1)
          .then((outcome) => {
            answered = true;
            return outcome;
          });
        while ((await store.getResource(cid, 'Group', gid, { members: false }))?.version !== 2) await new Promise((resolve) => setImmediate(resolve));
        // The swap is visible and still settling: a member it removed joins again meanwhile.
        expect(answered).toBe(false);
        const back = { ...groupWrite(gid, 'Big'), members: undefined, memberChanges: { remove: [], add: [{ value: users[3]! }] } };
        expect(await store.replaceResource(cid, back, 2)).toMatchObject({ ok: true, version: 3 });
        expect(await swap).toMatchObject({ ok: true, version: 2 });

        const after = await Promise.all(users.map((id) => store.getResource(cid, 'User', id)));
        expect(after.map((u) => u?.groups?.map((g) => g.value))).toEqual([[gid], [gid], [gid], [gid], [], []]);
        for (const i of [3, 4, 5]) expect(after[i]!.version).toBeGreaterThan(before[i]!.version);
        expect((await store.getResource(cid, 'Group', gid, { members: false }))?.memberCount).toBe(3 + 6_000 + 1);

        expect(await store.deleteResource(cid, 'Group', gid)).toBe(true);
        const gone = await Promise.all(users.map((id) => store.getResource(cid, 'User', id)));
        expect(gone.map((u) => u?.groups)).toEqual(users.map(() => []));
        for (const i of [0, 1, 2, 3]) expect(gone[i]!.version).toBeGreaterThan(after[i]!.version);
      });

      const member = (i: number): StoredMember => (i % 3 === 0 ? { value: `m${i}`, display: `M ${i}`, type: 'User' } : { value: `m${i}` });
      const range = (from: number, to: number): StoredMember[] => Array.from({ length: to - from }, (_, i) => member(from + i));
      /** Every member through listGroupMembers, in pages of `size`. */
      const pages = async (gid: string, size: number): Promise<StoredMember[]> => {
        const out: StoredMember[] = [];
        for (let offset = 0; ; offset += size) {
          const page = await store.listGroupMembers(cid, gid, offset, size);
          if (!page) throw new Error('no such group');
          out.push(...page.members);
          if (offset + size >= page.total) return out;
        }
      };
      const usageMatches = async (writes: ResourceWrite[]) => {
        const bytes = writes.reduce((n, w) => n + resourceBytes(normalizeResourceWrite(w)), 0);
        expect((await store.getUsage(cid)).bytes).toBe(bytes);
      };

      it('applies member changes: removals first, then additions appended; existing members are kept as they are', async () => {
        const gid = await createGroup('Team', [{ value: 'a', display: 'A' }, { value: 'b' }, { value: 'c' }]);
        const write = { ...groupWrite(gid, 'Team'), members: undefined };
        const outcome = await store.replaceResource(
          cid,
          {
            ...write,
            memberChanges: {
              remove: ['b', 'nobody', 'd'],
              add: [{ value: 'a', display: 'changed' }, { value: 'd', type: 'User' }, { value: 'e' }, { value: 'd' }],
            },
          },
          1,
        );
        expect(outcome).toEqual({ ok: true, version: 2 });
        const group = await store.getResource(cid, 'Group', gid);
        expect(group?.members).toEqual([{ value: 'a', display: 'A' }, { value: 'c' }, { value: 'd', type: 'User' }, { value: 'e' }]);
        expect(group?.memberCount).toBe(4);
        // Remove then add again in one write: the member moves to the end with what was sent.
        await store.replaceResource(cid, { ...write, memberChanges: { remove: ['a'], add: [{ value: 'a', display: 'A2' }] } }, 2);
        expect((await store.getResource(cid, 'Group', gid))?.members?.map((m) => m.value)).toEqual(['c', 'd', 'e', 'a']);
        // A write without members or changes keeps them.
        await store.replaceResource(cid, { ...groupWrite(gid, 'Renamed'), members: undefined }, 3);
        expect(await store.getResource(cid, 'Group', gid)).toMatchObject({ version: 4, memberCount: 4 });
        await usageMatches([groupWrite(gid, 'Renamed', [{ value: 'c' }, { value: 'd', type: 'User' }, { value: 'e' }, { value: 'a', display: 'A2' }])]);
      });

      it('writes nothing for a keepIfMembersUnchanged write whose members change nothing, and writes one that changes them', async () => {
        const members = [{ value: 'a', display: 'A' }, { value: 'b' }];
        const gid = await createGroup('Team', members);
        const write = { ...groupWrite(gid, 'Team, renamed'), members: undefined, keepIfMembersUnchanged: true };
        const unchanged = { ok: true, version: 1, unchanged: true };
        // Adds of members it has (whatever display is sent: an add keeps an existing member as it is), removes of members it has not.
        expect(await store.replaceResource(cid, { ...write, memberChanges: { add: [{ value: 'a', display: 'other' }], remove: ['z'] } }, 1)).toEqual(unchanged);
        expect(await store.replaceResource(cid, { ...write, memberChanges: { add: [], remove: ['y', 'z'] } }, 1)).toEqual(unchanged);
        expect(await store.replaceResource(cid, { ...write, members: [members[1]!, members[0]!] }, 1)).toEqual(unchanged);
        expect(await store.getResource(cid, 'Group', gid)).toMatchObject({ version: 1, json: groupWrite(gid, 'Team').json, members });
        // A stale version is still refused; a list that differs in a display, or a change that does something, is written.
        expect(await store.replaceResource(cid, { ...write, memberChanges: { add: [], remove: ['z'] } }, 5)).toEqual({
          ok: false,
          reason: 'version_mismatch',
          currentVersion: 1,
        });
        expect(await store.replaceResource(cid, { ...write, members: [members[0]!, { value: 'b', display: 'B' }] }, 1)).toEqual({ ok: true, version: 2 });
        expect(await store.replaceResource(cid, { ...write, memberChanges: { add: [{ value: 'a' }], remove: ['b'] } }, 2)).toEqual({ ok: true, version: 3 });
        expect(await store.getResource(cid, 'Group', gid)).toMatchObject({ version: 3, json: write.json, members: [members[0]] });
      });

      it('refuses member changes with a stale version, or with a full list too, and changes nothing', async () => {
        const gid = await createGroup('Team', [{ value: 'a' }]);
        const write = { ...groupWrite(gid, 'Team'), members: undefined, memberChanges: { add: [{ value: 'b' }], remove: ['a'] } };
        expect(await store.replaceResource(cid, write, 7)).toEqual({ ok: false, reason: 'version_mismatch', currentVersion: 1 });
        expect((await store.getResource(cid, 'Group', gid))?.members).toEqual([{ value: 'a' }]);
        await expect(store.replaceResource(cid, { ...write, members: [] }, 1)).rejects.toThrow(TypeError);
        await expect(store.createResource(cid, { ...groupWrite('g2', 'G2'), members: undefined, memberChanges: { add: [], remove: [] } })).rejects.toThrow(
          TypeError,
        );
      });

      it('reads a group without members, pages its members in order and counts them', async () => {
        const gid = await createGroup('Team', range(0, 25));
        const bare = await store.getResource(cid, 'Group', gid, { members: false });
        expect(bare).toEqual({ id: gid, kind: 'Group', json: JSON.stringify({ id: gid, displayName: 'Team' }), version: 1, memberCount: 25 });
        expect(await store.listGroupMembers(cid, gid, 0, 10)).toEqual({ version: 1, total: 25, members: range(0, 10) });
        expect(await store.listGroupMembers(cid, gid, 20, 10)).toEqual({ version: 1, total: 25, members: range(20, 25) });
        expect(await store.listGroupMembers(cid, gid, 30, 10)).toEqual({ version: 1, total: 25, members: [] });
        expect(await store.listGroupMembers(cid, gid, 0, 0)).toEqual({ version: 1, total: 25, members: [] });
        expect(await store.listGroupMembers(cid, 'no-such-group', 0, 10)).toBeNull();
        await expect(store.listGroupMembers(cid, gid, -1, 10)).rejects.toThrow(TypeError);
        expect(await pages(gid, 7)).toEqual(range(0, 25));
        expect((await store.findByIndex(cid, 'Group', 'displayName', 'team', { members: false }))[0]).toEqual(bare);
        expect((await store.listPage(cid, 'Group', 0, 10, { members: false })).resources).toEqual([bare]);
        expect((await store.listPage(cid, 'Group', 0, 10)).resources[0]?.members).toEqual(range(0, 25));
      });

      it('moves a user’s version on whenever its groups change: joining, leaving, the group’s deletion', async () => {
        const uid = await createUser('ann');
        const other = await createUser('bob');
        const version = async (id: string) => (await store.getResource(cid, 'User', id))?.version;
        const gid = await createGroup('Team', [{ value: uid }]);
        expect(await version(uid)).toBe(2);
        const bare = { ...groupWrite(gid, 'Team'), members: undefined };
        await store.replaceResource(cid, { ...bare, memberChanges: { remove: [uid], add: [] } }, 1);
        expect(await version(uid)).toBe(3);
        expect((await store.getResource(cid, 'User', uid))?.groups).toEqual([]);
        await store.replaceResource(cid, { ...bare, memberChanges: { remove: [], add: [{ value: uid }] } }, 2);
        expect(await version(uid)).toBe(4);
        expect((await store.getResource(cid, 'User', uid))?.groups).toEqual([{ value: gid, display: 'Team' }]);
        // Changes that do nothing to a user leave it alone.
        await store.replaceResource(cid, { ...bare, memberChanges: { remove: ['nobody'], add: [{ value: uid }] } }, 3);
        expect(await version(uid)).toBe(4);
        await store.replaceResource(cid, groupWrite(gid, 'Team', [{ value: uid }, { value: other }]), 4);
        expect([await version(uid), await version(other)]).toEqual([4, 2]);
        expect(await store.deleteResource(cid, 'Group', gid)).toBe(true);
        expect([await version(uid), await version(other)]).toEqual([5, 3]);
        expect((await store.getResource(cid, 'User', uid))?.groups).toEqual([]);
      });

      it('keeps membership, user versions and bytes exact through lists and changes longer than one chunk', async () => {
        const users: string[] = [];
        for (let i = 0; i < 30; i++) users.push(await createUser(`user${i}`));
        const list = [...range(0, 1200), ...users.slice(0, 20).map((value) => ({ value })), ...range(1200, 2400)];
        const gid = await createGroup('Big', list);
        expect(await store.getResource(cid, 'Group', gid, { members: false })).toMatchObject({ version: 1, memberCount: list.length });
        expect(await pages(gid, 1000)).toEqual(list);
        expect(await store.getResource(cid, 'User', users[0]!)).toMatchObject({ version: 2, groups: [{ value: gid, display: 'Big' }] });
        await usageMatches([...users.map((u, i) => userWrite(u, `user${i}`)), groupWrite(gid, 'Big', list)]);
        // A full replace longer than a chunk: users 10..29 in, 0..9 out, members reordered.
        const next = [...users.slice(10).map((value) => ({ value })), ...range(600, 3000)];
        expect(await store.replaceResource(cid, groupWrite(gid, 'Big', next), 1)).toEqual({ ok: true, version: 2 });
        expect((await store.getResource(cid, 'Group', gid))?.members).toEqual(next);
        const versions = await Promise.all(users.map(async (u) => (await store.getResource(cid, 'User', u))?.version));
        expect(versions).toEqual([...Array(10).fill(3), ...Array(10).fill(2), ...Array(10).fill(2)]);
        expect((await store.getResource(cid, 'User', users[0]!))?.groups).toEqual([]);
        expect((await store.getResource(cid, 'User', users[29]!))?.groups).toEqual([{ value: gid, display: 'Big' }]);
        await usageMatches([...users.map((u, i) => userWrite(u, `user${i}`)), groupWrite(gid, 'Big', next)]);
        // More changes than one chunk: all applied, each member's version moved once. A store may apply them
        // in several steps, each moving the group's version (Redis: one per MEMBER_CHUNK changes), so the
        // version is only known to have moved, and to be the one the group now has.
        const changes = { remove: [...users.slice(10, 15), ...range(600, 1600).map((m) => m.value)], add: range(5000, 5700) };
        const changed = await store.replaceResource(cid, { ...groupWrite(gid, 'Big'), members: undefined, memberChanges: changes }, 2);
        expect(changed).toMatchObject({ ok: true });
        const version = changed.ok ? changed.version : 0;
        expect(version).toBeGreaterThan(2);
        expect(await store.getResource(cid, 'Group', gid, { members: false })).toMatchObject({ version });
        const after = [...users.slice(15).map((value) => ({ value })), ...range(1600, 3000), ...range(5000, 5700)];
        expect(await pages(gid, 999)).toEqual(after);
        expect(await store.getResource(cid, 'User', users[12]!)).toMatchObject({ version: 3, groups: [] });
        await usageMatches([...users.map((u, i) => userWrite(u, `user${i}`)), groupWrite(gid, 'Big', after)]);
        // A stale full replace changes nothing.
        expect(await store.replaceResource(cid, groupWrite(gid, 'Big', range(0, 2000)), 2)).toEqual({
          ok: false,
          reason: 'version_mismatch',
          currentVersion: version,
        });
        expect((await store.getResource(cid, 'Group', gid, { members: false }))?.memberCount).toBe(after.length);
        // Deleting the big group frees its bytes and its members' groups.
        expect(await store.deleteResource(cid, 'Group', gid)).toBe(true);
        expect(await store.getResource(cid, 'User', users[20]!)).toMatchObject({ version: 3, groups: [] });
        await usageMatches(users.map((u, i) => userWrite(u, `user${i}`)));
        expect(await store.listGroupMembers(cid, gid, 0, 10)).toBeNull();
        // The id can be used again, with none of the old members.
        await store.createResource(cid, groupWrite(gid, 'Big', [{ value: users[0]! }]));
        expect(await pages(gid, 10)).toEqual([{ value: users[0]! }]);
      });

      it('refuses a long list over the bytes quota and leaves nothing behind', async () => {
        const list = range(0, 2500);
        const tight = { maxUsers: 10, maxGroups: 10, maxBytes: 1000 };
        expect(await store.createResource(cid, groupWrite('g1', 'Big', list), tight)).toMatchObject({ ok: false, reason: 'quota', quota: 'bytes' });
        expect(await store.getResource(cid, 'Group', 'g1')).toBeNull();
        expect(await store.getUsage(cid)).toEqual({ users: 0, groups: 0, bytes: 0 });
        expect(await store.createResource(cid, groupWrite('g1', 'Big', list))).toEqual({ ok: true, version: 1 });
        expect((await store.getResource(cid, 'Group', 'g1', { members: false }))?.memberCount).toBe(2500);
      });

      it('keeps a long list write atomic against writes started while it is under way', async () => {
        // A store may prepare a long list in phases (the memory store yields between them): whatever it does,
        // the checks and the write are one step, so of two writes that conflict exactly one wins.
        const long = range(0, 2500);
        const [big, small] = await Promise.all([
          store.createResource(cid, groupWrite('g1', 'Same', long)),
          store.createResource(cid, groupWrite('g2', 'Same', [{ value: 'm' }])),
        ]);
        expect([big, small].filter((outcome) => outcome.ok)).toHaveLength(1);
        const winner = big.ok ? 'g1' : 'g2';
        expect((await store.getResource(cid, 'Group', winner === 'g1' ? 'g2' : 'g1')) ?? null).toBeNull();
        await usageMatches([winner === 'g1' ? groupWrite('g1', 'Same', long) : groupWrite('g2', 'Same', [{ value: 'm' }])]);
        // Two replaces from the same version: one applies, the other sees the version it moved to.
        const gid = await createGroup('Race', range(0, 10));
        const outcomes = await Promise.all([
          store.replaceResource(cid, groupWrite(gid, 'Race', range(100, 2600)), 1),
          store.replaceResource(cid, groupWrite(gid, 'Race', range(5000, 5002)), 1),
        ]);
        expect(outcomes.filter((outcome) => outcome.ok)).toHaveLength(1);
        expect(outcomes.find((outcome) => !outcome.ok)).toEqual({ ok: false, reason: 'version_mismatch', currentVersion: 2 });
        const kept = outcomes[0]!.ok ? range(100, 2600) : range(5000, 5002);
        expect(await pages(gid, 1000)).toEqual(kept);
        // A connection deleted while a long write is under way keeps nothing of it.
        await Promise.all([store.createResource(cid, groupWrite('g3', 'Late', long)), store.deleteConnection(cid)]);
        expect(await store.getResource(cid, 'Group', 'g3')).toBeNull();
        expect(await store.getUsage(cid)).toEqual({ users: 0, groups: 0, bytes: 0 });
      });

      it('checks every quota of a long change list and answers the version it wrote, whichever of its parts changes nothing', async () => {
        // Found by a review (2026-12-05): on Redis, a first chunk of members the group had skipped the bytes
        // check for the whole write, and a last such chunk answered the version from before the write.
        const gid = await createGroup('Quota', range(0, 300));
        const used = (await store.getUsage(cid)).bytes;
        const tight = { maxUsers: 100, maxGroups: 100, maxBytes: used + 1000 };
        const changes = (add: StoredMember[]) => ({
          ...groupWrite(gid, 'Quota'),
          members: undefined,
          memberChanges: { add, remove: [] },
          keepIfMembersUnchanged: true,
        });
        // Members it has first, then 1,200 new ones: over the quota as a whole.
        const over = await store.replaceResource(cid, changes([...range(0, 300), ...range(1000, 2200)]), 1, tight);
        expect(over).toMatchObject({ ok: false, reason: 'quota', quota: 'bytes' });
        expect(await store.getUsage(cid)).toMatchObject({ bytes: used });
        expect((await store.getResource(cid, 'Group', gid, { members: false }))?.memberCount).toBe(300);
        // New members first, then members it has: written, with the version the group now has.
        const written = await store.replaceResource(cid, changes([...range(1000, 1300), ...range(0, 300)]), 1);
        expect(written).toMatchObject({ ok: true });
        expect(written).not.toHaveProperty('unchanged');
        const stored = await store.getResource(cid, 'Group', gid, { members: false });
        expect(stored).toMatchObject({ version: written.ok ? written.version : -1, memberCount: 600 });
        // Only members it has: nothing is written.
        const all = [...range(0, 300), ...range(1000, 1300)];
        expect(await store.replaceResource(cid, changes(all), stored!.version)).toEqual({ ok: true, version: stored!.version, unchanged: true });
      });

      it('holds back other writes of a group while its write lease is held, and lets them through once it is released', async () => {
        const gid = await createGroup('Leased', range(0, 5));
        const lease = await store.leaseGroup(cid, gid);
        expect(lease?.token).toMatch(/^[0-9a-f]{32}$/);
        // A second lease and a write without the lease both wait for it.
        const waiting = { lease: false, write: false };
        const second = store.leaseGroup(cid, gid).then((l) => ((waiting.lease = true), l));
        const outside = store.replaceResource(cid, groupWrite(gid, 'Outside', range(0, 1)), 1).then((o) => ((waiting.write = true), o));
        // The holder's own writes go through, inline and chunked alike.
        expect(await store.replaceResource(cid, { ...groupWrite(gid, 'Holder', range(10, 12)), lease: lease!.token }, 1)).toEqual({ ok: true, version: 2 });
        const changes = { remove: [], add: range(100, 2100) };
        const chunked = await store.replaceResource(cid, { ...groupWrite(gid, 'Holder'), members: undefined, memberChanges: changes, lease: lease!.token }, 2);
        expect(chunked).toMatchObject({ ok: true });
        expect(waiting).toEqual({ lease: false, write: false });
        await lease!.release();
        // Released, it goes to one of the two waiting (either may come first; the other then waits for it).
        const next = await second;
        expect(next?.token).toMatch(/^[0-9a-f]{32}$/);
        expect(next?.token).not.toBe(lease!.token);
        await next!.release();
        // The write that waited was computed from version 1: it now finds the holder's version, and changed nothing.
        expect(await outside).toEqual({ ok: false, reason: 'version_mismatch', currentVersion: chunked.ok ? chunked.version : -1 });
        expect(await pages(gid, 1000)).toEqual([...range(10, 12), ...range(100, 2100)]);
        // Released, the group takes writes without a lease again.
        expect(await store.replaceResource(cid, groupWrite(gid, 'Free', range(0, 1)), chunked.ok ? chunked.version : -1)).toMatchObject({ ok: true });
        // A token that is not from leaseGroup is refused before anything is read.
        await expect(store.replaceResource(cid, { ...groupWrite(gid, 'Free'), lease: 'not a token' }, 1)).rejects.toBeInstanceOf(TypeError);
      });

      it('applies concurrent member changes from the same version exactly once each, by retrying the losers', async () => {
        const gid = await createGroup('Team');
        await Promise.all(
          Array.from({ length: 10 }, async (_, i) => {
            for (;;) {
              const current = await store.getResource(cid, 'Group', gid, { members: false });
              const write = { ...groupWrite(gid, 'Team'), members: undefined, memberChanges: { add: range(i * 10, i * 10 + 10), remove: [] } };
              const outcome = await store.replaceResource(cid, write, current!.version);
              if (outcome.ok) return;
            }
          }),
        );
        const members = await pages(gid, 1000);
        expect(members).toHaveLength(100);
        expect(new Set(members.map((m) => m.value)).size).toBe(100);
      });
    });

    describe('isolation between connections', () => {
      it('allows the same userName in two connections and hides each one’s ids from the other', async () => {
        const other = makeConnection();
        await store.createConnection(other);
        const mine = await createUser('ann', { externalId: 'e1' });
        const theirs = randomUUID();
        expect(await store.createResource(other.connectionId, userWrite(theirs, 'ann', { externalId: 'e1' }))).toEqual({
          ok: true,
          version: 1,
        });
        expect(await store.getResource(cid, 'User', theirs)).toBeNull();
        expect(await store.getResource(other.connectionId, 'User', mine)).toBeNull();
        expect(ids(await store.findByIndex(cid, 'User', 'externalId', 'e1'))).toEqual([mine]);
        expect(ids((await store.listPage(other.connectionId, 'User', 0, 10)).resources)).toEqual([theirs]);
        expect(await store.deleteResource(cid, 'User', theirs)).toBe(false);
        expect(await store.replaceResource(cid, userWrite(theirs, 'x'), 1)).toEqual({ ok: false, reason: 'not_found' });
        const gid = await createGroup('G', [{ value: theirs }]);
        expect((await store.getResource(other.connectionId, 'User', theirs))?.groups).toEqual([]);
        expect(await store.getResource(other.connectionId, 'Group', gid)).toBeNull();
      });
    });

    describe('login lookup', () => {
      /**
       * Each answer of a batch is what findUsersForLogin answers alone: the same users (with their creation
       * numbers), and its deletedMatch where it found nobody (a batch reports deletedMatch only then).
       */
      /** A found user without what a login lookup may leave unread (LoginLookup: the groups of holders it cannot admit). */
      const withoutGroups = ({ groups: _groups, ...user }: StoredResource) => user;

      async function expectAnswersAsAlone(lookups: { attribute: string; value: string }[], batch: NumberedLoginLookup[]): Promise<void> {
        // Asked for projections, the batch gives every large user as its login projection, the rest whole.
        const projectedBatch = await store.findUsersForLoginBatch(cid, lookups, { projections: true });
        const projectionOr = (user: StoredResource) => loginProjectionOf(user.json) ?? user.json;
        for (const [i, { attribute, value }] of lookups.entries()) {
          const one = await store.findUsersForLogin(cid, attribute, value);
          // Whole in the batch; in the lookup, as its login projection where it says so (LoginLookup.projected).
          const asLookupReadsIt = (user: StoredResource) => (one.projected?.has(user.id) ? { ...user, json: projectionOr(user) } : user);
          expect(batch[i]!.users.map(({ seq: _, ...user }) => withoutGroups(asLookupReadsIt(user)))).toEqual(one.users.map(withoutGroups));
          expect(batch[i]!.projected).toBeUndefined();
          expect(projectedBatch[i]!.users.map((user) => [user.id, user.json])).toEqual(batch[i]!.users.map((user) => [user.id, projectionOr(user)]));
          const large = batch[i]!.users.filter((user) => loginProjectionOf(user.json) !== null).map((user) => user.id);
          expect(projectedBatch[i]!.projected).toEqual(large.length > 0 ? new Set(large) : undefined);
          // The groups a lookup read are the batch's (which reads every user's).
          for (const [j, user] of one.users.entries()) if (user.groups) expect(batch[i]!.users[j]!.groups).toEqual(user.groups);
          expect(batch[i]!.deletedMatch).toBe(one.users.length === 0 && one.deletedMatch);
        }
      }

      it('returns the users an index value points at, like findByIndex, and no groups', async () => {
        const a = await createUser('ann@one.com', { emails: ['shared@x.com'] });
        const b = await createUser('bob@two.com', { emails: ['shared@x.com'] });
        await createGroup('Team', [{ value: b }]);
        await createGroup('shared@x.com');
        const found = await store.findUsersForLogin(cid, 'email', 'shared@x.com');
        const byIndex = await store.findByIndex(cid, 'User', 'email', 'shared@x.com');
        expect(found.users.map(withoutGroups)).toEqual(byIndex.map(withoutGroups));
        expect(found.deletedMatch).toBe(false);
        expect(ids(found.users)).toEqual([a, b]);
        // Asked without groups, an index read reads none (the Compare page reads those of the users it shows).
        const bare = await store.findByIndex(cid, 'User', 'email', 'shared@x.com', { groups: false });
        expect([ids(bare), bare.some((u) => 'groups' in u)]).toEqual([[a, b], false]);
        // The one active holder of a value carries its groups (the others may not: LoginLookup).
        const json = JSON.stringify({ id: a, userName: 'ann@one.com', emails: ['shared@x.com'], active: false });
        expect(await store.replaceResource(cid, userWrite(a, 'ann@one.com', { emails: ['shared@x.com'], json }), 1)).toMatchObject({ ok: true });
        expect((await store.findUsersForLogin(cid, 'email', 'shared@x.com')).users[1]?.groups).toEqual([{ value: expect.any(String), display: 'Team' }]);
        expect(await store.findUsersForLogin(cid, 'displayName', 'shared@x.com')).toEqual({ users: [], deletedMatch: false });
        expect(await store.findUsersForLogin('conn-unknown', 'email', 'shared@x.com')).toEqual({
          users: [],
          deletedMatch: false,
        });
        await expect(store.findUsersForLogin('a b', 'email', 'x')).rejects.toThrow(TypeError);
        await expect(store.findUsersForLogin(cid, '', 'x')).rejects.toThrow(TypeError);
      });

      it('reports deletedMatch for every index value a deleted user held', async () => {
        const id = await createUser('Ann@Example.com', { externalId: 'e1', emails: ['ann@work.com'] });
        await createUser('bob');
        expect(await store.deleteResource(cid, 'User', id)).toBe(true);
        for (const [attribute, value] of [
          ['userName', 'ann@example.com'],
          ['userNameLocal', 'ann'],
          ['externalId', 'e1'],
          ['email', 'ann@work.com'],
        ] as const) {
          expect({ attribute, ...(await store.findUsersForLogin(cid, attribute, value)) }).toEqual({
            attribute,
            users: [],
            deletedMatch: true,
          });
        }
        expect(await store.findUsersForLogin(cid, 'externalId', 'E1')).toEqual({ users: [], deletedMatch: false });
        expect(await store.findUsersForLogin(cid, 'email', 'ann@example.com')).toEqual({ users: [], deletedMatch: false });
      });

      it('answers many lookups in one call as findUsersForLogin answers each, users numbered and shared', async () => {
        const id = await createUser('Gone@Example.com', { externalId: 'g1' });
        const kept = await createUser('kept', { externalId: 'k1', emails: ['shared@x.com'] });
        const other = await createUser('other', { externalId: 'k1', emails: ['shared@x.com'] });
        await createGroup('Team', [{ value: other }]);
        expect(await store.deleteResource(cid, 'User', id)).toBe(true);
        const lookups = [
          { attribute: 'userName', value: 'gone@example.com' },
          { attribute: 'externalId', value: 'g1' },
          { attribute: 'externalId', value: 'k1' },
          { attribute: 'userName', value: 'never' },
          { attribute: 'email', value: 'shared@x.com' },
          { attribute: 'userName', value: 'kept' },
        ];
        const batch = await store.findUsersForLoginBatch(cid, lookups);
        expect(batch.map((b) => ({ users: ids(b.users), deletedMatch: b.deletedMatch }))).toEqual([
          { users: [], deletedMatch: true },
          { users: [], deletedMatch: true },
          { users: [kept, other], deletedMatch: false },
          { users: [], deletedMatch: false },
          { users: [kept, other], deletedMatch: false },
          { users: [kept], deletedMatch: false },
        ]);
        // Each answer is findUsersForLogin's, users with their creation numbers, in creation order.
        await expectAnswersAsAlone(lookups, batch);
        // A value a deleted user held and a live user holds again: findUsersForLogin still says deleted,
        // the batch only says so when nobody is found (the one case the flag is for).
        await createUser('gone@example.com');
        const [again] = await store.findUsersForLoginBatch(cid, [lookups[0]!]);
        expect(again!.users).toHaveLength(1);
        expect(again!.deletedMatch).toBe(false);
        expect((await store.findUsersForLogin(cid, 'userName', 'gone@example.com')).deletedMatch).toBe(true);
        const [keptUser, otherUser] = batch[2]!.users;
        expect(keptUser!.seq).toBeLessThan(otherUser!.seq);
        expect(otherUser!.groups).toEqual([{ value: expect.any(String), display: 'Team' }]);
        // A user found by several lookups is one object.
        expect(batch[4]!.users[0]).toBe(batch[2]!.users[0]);
        expect(batch[5]!.users[0]).toBe(keptUser);
        expect(await store.findUsersForLoginBatch(cid, [])).toEqual([]);
        expect(await store.findUsersForLoginBatch('conn-unknown', [{ attribute: 'externalId', value: 'k1' }])).toEqual([{ users: [], deletedMatch: false }]);
        await expect(store.findUsersForLoginBatch(cid, [{ attribute: '', value: 'x' }])).rejects.toThrow(TypeError);
        await expect(store.findUsersForLoginBatch(cid, [{ attribute: 'userName', value: 1 as unknown as string }])).rejects.toThrow(TypeError);
      });

      it('answers a batch of heavy users whole, as findUsersForLogin does, however many bytes they hold (Redis: in several scripts)', async () => {
        const note = 'x'.repeat(PAGE_READ_BYTES * 0.3);
        const heavy: string[] = [];
        for (let i = 0; i < 5; i++) {
          const id = randomUUID();
          const write = userWrite(id, `weighty${i}`, {
            externalId: i < 2 ? 'weighty-shared' : `weighty-${i}`,
            json: JSON.stringify({ id, userName: `weighty${i}`, note }),
          });
          expect(await store.createResource(cid, write)).toMatchObject({ ok: true });
          heavy.push(id);
        }
        const light = await createUser('featherweight');
        const lookups = [
          { attribute: 'externalId', value: 'weighty-shared' },
          { attribute: 'userName', value: 'weighty2' },
          { attribute: 'externalId', value: 'weighty-3' },
          { attribute: 'userName', value: 'featherweight' },
          { attribute: 'userName', value: 'weighty0' },
          { attribute: 'externalId', value: 'weighty-4' },
          { attribute: 'userName', value: 'nobody-weighty' },
        ];
        const batch = await store.findUsersForLoginBatch(cid, lookups);
        expect(batch.map((b) => ids(b.users))).toEqual([[heavy[0], heavy[1]], [heavy[2]], [heavy[3]], [light], [heavy[0]], [heavy[4]], []]);
        await expectAnswersAsAlone(lookups, batch);
        expect(batch[4]!.users[0]).toBe(batch[0]!.users[0]);
      });

      it('answers a batch whose first lookup alone holds more than PAGE_READ_BYTES whole (Redis: one row per script)', async () => {
        const note = 'x'.repeat(PAGE_READ_BYTES * 0.4);
        const heavy: string[] = [];
        for (let i = 0; i < 4; i++) {
          const id = randomUUID();
          const write = userWrite(id, `bulky${i}`, { externalId: 'bulky-shared', json: JSON.stringify({ id, userName: `bulky${i}`, note }) });
          expect(await store.createResource(cid, write)).toMatchObject({ ok: true });
          heavy.push(id);
        }
        await store.deleteResource(cid, 'User', heavy[3]!);
        const light = await createUser('slender', { externalId: 'slender-1' });
        const lookups = [
          { attribute: 'externalId', value: 'bulky-shared' },
          { attribute: 'externalId', value: 'slender-1' },
          { attribute: 'userName', value: 'bulky1' },
        ];
        const batch = await store.findUsersForLoginBatch(cid, lookups);
        expect(batch.map((b) => ids(b.users))).toEqual([heavy.slice(0, 3), [light], [heavy[1]]]);
        await expectAnswersAsAlone(lookups, batch);
        expect(batch.every((b) => !b.deletedMatch)).toBe(true);
        expect(batch[0]!.users.every((u) => u.json.includes(note) && Number.isSafeInteger(u.seq))).toBe(true);
        expect(batch[0]!.users.map((u) => u.seq)).toEqual([...batch[0]!.users.map((u) => u.seq)].sort((a, b) => a - b));
        expect(batch[2]!.users[0]).toBe(batch[0]!.users[1]);
      });

      it('answers a batch longer than one script the same way, one object per user across its parts', async () => {
        const ann = await createUser('ann', { externalId: 'e-ann' });
        const lookups = Array.from({ length: 1201 }, (_, i) => ({ attribute: 'externalId', value: i % 600 === 0 ? 'e-ann' : `none-${i}` }));
        const batch = await store.findUsersForLoginBatch(cid, lookups);
        expect(batch).toHaveLength(1201);
        const hits = batch.flatMap((b, i) => (b.users.length ? [i] : []));
        expect(hits).toEqual([0, 600, 1200]);
        expect(batch[0]!.users[0]!.id).toBe(ann);
        expect(batch[600]!.users[0]).toBe(batch[0]!.users[0]);
        expect(batch[1200]!.users[0]).toBe(batch[0]!.users[0]);
      });

      it('reports no deletedMatch for a value a replace dropped, a deleted group’s value or a value never held', async () => {
        const id = await createUser('ann', { externalId: 'old' });
        await store.replaceResource(cid, userWrite(id, 'anne', { externalId: 'new' }), 1);
        expect(await store.findUsersForLogin(cid, 'userName', 'ann')).toEqual({ users: [], deletedMatch: false });
        expect(await store.findUsersForLogin(cid, 'externalId', 'old')).toEqual({ users: [], deletedMatch: false });
        const gid = await createGroup('Admins');
        expect(await store.deleteResource(cid, 'Group', gid)).toBe(true);
        expect(await store.findUsersForLogin(cid, 'displayName', 'admins')).toEqual({ users: [], deletedMatch: false });
        expect(await store.findUsersForLogin(cid, 'userName', 'nobody')).toEqual({ users: [], deletedMatch: false });
        // The replace's new values, deleted, do leave tombstones.
        await store.deleteResource(cid, 'User', id);
        expect((await store.findUsersForLogin(cid, 'externalId', 'new')).deletedMatch).toBe(true);
        expect((await store.findUsersForLogin(cid, 'externalId', 'old')).deletedMatch).toBe(false);
      });

      it('keeps the tombstone when a new user takes the value again', async () => {
        const gone = await createUser('ann');
        await store.deleteResource(cid, 'User', gone);
        const back = await createUser('ann');
        const found = await store.findUsersForLogin(cid, 'userName', 'ann');
        expect({ ids: ids(found.users), deletedMatch: found.deletedMatch }).toEqual({ ids: [back], deletedMatch: true });
      });

      it('keeps tombstones within their connection', async () => {
        const other = makeConnection();
        await store.createConnection(other);
        await store.createResource(other.connectionId, userWrite('theirs', 'ann'));
        await store.deleteResource(other.connectionId, 'User', 'theirs');
        expect(await store.findUsersForLogin(cid, 'userName', 'ann')).toEqual({ users: [], deletedMatch: false });
        expect(await store.findUsersForLogin(other.connectionId, 'userName', 'ann')).toEqual({
          users: [],
          deletedMatch: true,
        });
      });

      it('drops the tombstones with the connection', async () => {
        const id = await createUser('ann', { externalId: 'e1' });
        await store.deleteResource(cid, 'User', id);
        expect((await store.findUsersForLogin(cid, 'userName', 'ann')).deletedMatch).toBe(true);
        expect(await store.deleteConnection(cid)).toBe(true);
        expect(await store.createConnection(makeConnection({ connectionId: cid, customerId: conn.customerId }))).toBe('created');
        expect(await store.findUsersForLogin(cid, 'userName', 'ann')).toEqual({ users: [], deletedMatch: false });
        expect(await store.findUsersForLogin(cid, 'externalId', 'e1')).toEqual({ users: [], deletedMatch: false });
      });
    });

    describe('setup grants', () => {
      const grant = (over: Partial<StoredSetupGrant> = {}): StoredSetupGrant => ({
        hash: hash(randomUUID()),
        kind: 'link',
        customerId: conn.customerId,
        allow: ['sso', 'scim'],
        createdAt: clock.now,
        expiresAt: clock.now + 60_000,
        linkHash: null,
        ...over,
      });

      it('keeps a grant by its hash only, valid until it expires, then expired until retention ends', async () => {
        const link = grant();
        await store.putSetupGrant(link);
        expect(await store.getSetupGrant(link.hash)).toEqual({ grant: link, status: 'valid' });
        expect(await store.getSetupGrant(hash('never stored'))).toBeNull();
        expect(await store.getSetupGrant('not a hash')).toBeNull();
        clock.now += 60_000;
        expect(await store.getSetupGrant(link.hash)).toEqual({ grant: link, status: 'expired' });
        clock.now += SETUP_GRANT_RETENTION_MS;
        expect(await store.getSetupGrant(link.hash)).toBeNull();
      });

      it('forgets a session an hour after it ended, while a link is remembered a week', async () => {
        const link = grant();
        const session = grant({ kind: 'session', linkHash: link.hash });
        for (const g of [link, session]) await store.putSetupGrant(g);
        clock.now += 60_000 + SESSION_GRANT_RETENTION_MS - 1;
        expect((await store.getSetupGrant(session.hash))?.status).toBe('expired');
        clock.now += 1;
        expect(await store.getSetupGrant(session.hash)).toBeNull();
        expect((await store.getSetupGrant(link.hash))?.status).toBe('expired');
      });

      it('revokes every grant of one customer created up to the revocation, links and sessions, and no other customer’s', async () => {
        const link = grant();
        const session = grant({ kind: 'session', linkHash: link.hash });
        const other = grant({ customerId: `other-${randomUUID()}` });
        for (const g of [link, session, other]) await store.putSetupGrant(g);
        clock.now += 1;
        await store.revokeSetupGrants(conn.customerId);
        expect((await store.getSetupGrant(link.hash))?.status).toBe('revoked');
        expect((await store.getSetupGrant(session.hash))?.status).toBe('revoked');
        expect((await store.getSetupGrant(other.hash))?.status).toBe('valid');
        // A link made after the revocation works; revoked wins over expired.
        clock.now += 1;
        const later = grant();
        await store.putSetupGrant(later);
        expect((await store.getSetupGrant(later.hash))?.status).toBe('valid');
        clock.now += 120_000;
        expect((await store.getSetupGrant(link.hash))?.status).toBe('revoked');
        expect((await store.getSetupGrant(later.hash))?.status).toBe('expired');
      });

      it('decides revocation by order, not by clocks: the same millisecond, or a creator whose clock runs ahead', async () => {
        // No clock moves: the revocation and the links around it share one millisecond.
        const before = grant();
        await store.putSetupGrant(before);
        await store.revokeSetupGrants(conn.customerId);
        const after = grant();
        await store.putSetupGrant(after);
        expect((await store.getSetupGrant(before.hash))?.status).toBe('revoked');
        expect((await store.getSetupGrant(after.hash))?.status).toBe('valid');
        // A link stamped by an instance whose clock is a minute ahead, revoked by one on time.
        const ahead = grant({ createdAt: clock.now + 60_000, expiresAt: clock.now + 3_600_000 });
        await store.putSetupGrant(ahead);
        await store.revokeSetupGrants(conn.customerId);
        expect((await store.getSetupGrant(ahead.hash))?.status).toBe('revoked');
        expect((await store.getSetupGrant(after.hash))?.status).toBe('revoked');
      });

      it('refuses malformed grants', async () => {
        await expect(store.putSetupGrant(grant({ hash: 'abc' }))).rejects.toThrow(TypeError);
        await expect(store.putSetupGrant(grant({ allow: [] }))).rejects.toThrow(TypeError);
        await expect(store.putSetupGrant(grant({ allow: ['sso', 'admin' as 'sso'] }))).rejects.toThrow(TypeError);
        await expect(store.putSetupGrant(grant({ expiresAt: clock.now }))).rejects.toThrow(TypeError);
        await expect(store.putSetupGrant(grant({ kind: 'session', linkHash: null }))).rejects.toThrow(TypeError);
        await expect(store.putSetupGrant(grant({ customerId: 'bad {id}' }))).rejects.toThrow(TypeError);
        await expect(store.revokeSetupGrants('bad {id}')).rejects.toThrow(TypeError);
      });
    });

    describe('role mappings', () => {
      it('sets, reads, replaces and removes a customer’s role mapping, and getCustomer returns it with the rest', async () => {
        const other = `cust-${randomUUID()}`;
        expect(await store.getRoleMapping(conn.customerId)).toBeNull();
        expect((await store.getCustomer(conn.customerId)).roleMapping).toBeNull();
        const first = { json: '{"rules":[],"defaultRoles":["member"]}', updatedAt: '2026-01-01T00:00:00.000Z' };
        await store.setRoleMapping(conn.customerId, first);
        expect(await store.getRoleMapping(conn.customerId)).toEqual(first);
        expect(await store.getRoleMapping(other)).toBeNull();
        const client = makeOidcClient(conn.customerId);
        await store.createOidcClient(client);
        expect(await store.getCustomer(conn.customerId)).toEqual({ connection: conn, client, saml: null, roleMapping: first });
        const second = { json: '{"rules":[{"groupId":"g","roles":["admin"]}],"defaultRoles":[]}', updatedAt: '2026-01-02T00:00:00.000Z' };
        await store.setRoleMapping(conn.customerId, second);
        expect(await store.getRoleMapping(conn.customerId)).toEqual(second);
        await store.setRoleMapping(conn.customerId, null);
        expect(await store.getRoleMapping(conn.customerId)).toBeNull();
        expect((await store.getCustomer(conn.customerId)).roleMapping).toBeNull();
      });

      it('refuses an oversized mapping and bad customer ids, changing nothing', async () => {
        const kept = { json: '{"rules":[],"defaultRoles":[]}', updatedAt: '2026-01-01T00:00:00.000Z' };
        await store.setRoleMapping(conn.customerId, kept);
        await expect(store.setRoleMapping(conn.customerId, { json: 'x'.repeat(1_000_001), updatedAt: kept.updatedAt })).rejects.toThrow(TypeError);
        await expect(store.setRoleMapping('bad id {x}', kept)).rejects.toThrow();
        await expect(store.getRoleMapping('bad id {x}')).rejects.toThrow();
        expect(await store.getRoleMapping(conn.customerId)).toEqual(kept);
      });
    });

    describe('activity log', () => {
      const entry = (n: number) => JSON.stringify({ n });
      const append = (customerId: string, log: ActivityLogName, ns: number[], maxEntries = 5) => ({ customerId, log, entries: ns.map(entry), maxEntries });
      const read = async (customerId: string, log: ActivityLogName, limit = 100) =>
        (await store.readActivity(customerId, log, limit)).map((text) => (JSON.parse(text) as { n: number }).n);

      it('keeps each list newest first, capped at its maxEntries, per customer and per list', async () => {
        const [a, b] = [`cust-${randomUUID()}`, `cust-${randomUUID()}`];
        await store.appendActivity(
          [append(a, 'scim', [1, 2, 3]), append(a, 'logins', [100]), append(a, 'failures', [200, 201]), append(b, 'scim', [7])],
          60_000,
        );
        await store.appendActivity([append(a, 'scim', [4, 5, 6, 7])], 60_000);
        expect(await read(a, 'scim')).toEqual([7, 6, 5, 4, 3]);
        expect(await read(a, 'scim', 2)).toEqual([7, 6]);
        expect(await read(a, 'logins')).toEqual([100]);
        expect(await read(a, 'failures')).toEqual([201, 200]);
        expect(await read(b, 'scim')).toEqual([7]);
        expect(await read(b, 'logins')).toEqual([]);
        expect(await read(`cust-${randomUUID()}`, 'scim')).toEqual([]);
      });

      it('drops a list ttlMs after its last append', async () => {
        const a = `cust-${randomUUID()}`;
        await store.appendActivity([append(a, 'scim', [1])], 100);
        // Redis expires keys by its own clock, the memory store by the injected one: move both.
        await new Promise((resolve) => setTimeout(resolve, 250));
        clock.now += 250;
        expect(await read(a, 'scim')).toEqual([]);
        await store.appendActivity([append(a, 'scim', [2])], 60_000);
        expect(await read(a, 'scim')).toEqual([2]);
      });

      it('refuses bad customer ids, lists and limits, changing nothing', async () => {
        const a = `cust-${randomUUID()}`;
        await store.appendActivity([append(a, 'scim', [1])], 60_000);
        await expect(store.appendActivity([append('bad id {x}', 'scim', [2])], 60_000)).rejects.toThrow();
        await expect(store.appendActivity([{ ...append(a, 'scim', [2]), log: '__proto__' as 'scim' }], 60_000)).rejects.toThrow(RangeError);
        await expect(store.appendActivity([append(a, 'scim', [2], 0)], 60_000)).rejects.toThrow(RangeError);
        await expect(store.appendActivity([append(a, 'scim', [2])], 0)).rejects.toThrow(RangeError);
        await expect(store.readActivity('bad id {x}', 'scim', 10)).rejects.toThrow();
        expect(await read(a, 'scim')).toEqual([1]);
      });
    });

    describe('OIDC clients', () => {
      it('creates one OIDC client per customer and answers exists for a second', async () => {
        const client = makeOidcClient(conn.customerId);
        expect(await store.getOidcClient(conn.customerId)).toBeNull();
        expect(await store.createOidcClient(client)).toBe('created');
        expect(await store.getOidcClient(conn.customerId)).toEqual(client);
        const second = makeOidcClient(conn.customerId, { issuer: 'https://other.example.com' });
        expect(await store.createOidcClient(second)).toBe('exists');
        expect(await store.getOidcClient(conn.customerId)).toEqual(client);
      });

      it('creates exactly one OIDC client when one customer’s client is created concurrently', async () => {
        const customerId = `cust-${randomUUID()}`;
        const clients = Array.from({ length: 10 }, (_, i) => makeOidcClient(customerId, { clientId: `c${i}` }));
        const results = await Promise.all(clients.map((c) => store.createOidcClient(c)));
        expect(results.filter((r) => r === 'created')).toHaveLength(1);
        expect(await store.getOidcClient(customerId)).toEqual(clients[results.indexOf('created')]);
      });

      it('replaces an OIDC client, and answers false when the customer has none', async () => {
        await store.createOidcClient(makeOidcClient(conn.customerId));
        const next = makeOidcClient(conn.customerId, {
          idpType: 'MicrosoftEntra',
          clientSecret: null,
          subjectClaim: 'oid',
          scopes: [],
          requiredClaims: { tid: ['t-1', 't-2'] },
          updatedAt: '2024-02-01T00:00:00.000Z',
        });
        expect(await store.replaceOidcClient(next)).toBe(true);
        expect(await store.getOidcClient(conn.customerId)).toEqual(next);
        const stranger = makeOidcClient(`cust-${randomUUID()}`);
        expect(await store.replaceOidcClient(stranger)).toBe(false);
        // With an expected updatedAt, a stale writer loses and changes nothing.
        const current = (await store.getOidcClient(next.customerId))!;
        expect(await store.replaceOidcClient({ ...current, clientId: 'stale' }, 'not-the-current-updatedAt')).toBe(false);
        expect((await store.getOidcClient(next.customerId))!.clientId).toBe(current.clientId);
        expect(await store.replaceOidcClient({ ...current, clientId: 'fresh', updatedAt: 'later' }, current.updatedAt)).toBe(true);
        expect((await store.getOidcClient(next.customerId))!.clientId).toBe('fresh');
        expect(await store.getOidcClient(stranger.customerId)).toBeNull();
      });

      it('deletes an OIDC client with its SSO users and leaves other customers’ intact', async () => {
        const other = makeOidcClient(`cust-${randomUUID()}`);
        await store.createOidcClient(makeOidcClient(conn.customerId));
        await store.createOidcClient(other);
        await store.recordSsoUser(conn.customerId, makeSsoUser('ann', '2024-01-01T00:00:00.000Z'));
        await store.recordSsoUser(other.customerId, makeSsoUser('bob', '2024-01-01T00:00:00.000Z'));
        expect(await store.deleteOidcClient(conn.customerId)).toBe(true);
        expect(await store.getOidcClient(conn.customerId)).toBeNull();
        expect(await store.listSsoUsers(conn.customerId)).toEqual([]);
        expect(await store.deleteOidcClient(conn.customerId)).toBe(false);
        expect(await store.getOidcClient(other.customerId)).toEqual(other);
        expect((await store.listSsoUsers(other.customerId)).map((u) => u.subject)).toEqual(['bob']);
        // The SCIM connection is not the OIDC client's to delete.
        expect(await store.getConnectionByCustomer(conn.customerId)).toEqual(conn);
        expect(await store.createOidcClient(makeOidcClient(conn.customerId))).toBe('created');
      });

      it('returns copies that callers cannot use to change the store', async () => {
        const client = makeOidcClient(conn.customerId);
        await store.createOidcClient(client);
        client.scopes.push('mutated-input');
        const found = await store.getOidcClient(conn.customerId);
        found!.scopes.push('mutated-output');
        found!.issuer = 'changed';
        expect(await store.getOidcClient(conn.customerId)).toEqual(
          makeOidcClient(conn.customerId, {
            oidcClientId: client.oidcClientId,
          }),
        );
      });

      it('rejects malformed OIDC clients and customer ids', async () => {
        for (const bad of ['a b', 'a{b', '', 'x'.repeat(201)]) {
          await expect(store.createOidcClient(makeOidcClient(bad))).rejects.toThrow(TypeError);
          await expect(store.getOidcClient(bad)).rejects.toThrow(TypeError);
          await expect(store.deleteOidcClient(bad)).rejects.toThrow(TypeError);
        }
        const wrong = [{ idpType: 'Auth0' }, { claimsSource: 'token' }, { scopes: 'openid' }, { clientSecret: 1 }] as unknown as Partial<StoredOidcClient>[];
        for (const overrides of wrong) {
          await expect(store.createOidcClient(makeOidcClient(conn.customerId, overrides))).rejects.toThrow(TypeError);
        }
        expect(await store.getOidcClient(conn.customerId)).toBeNull();
      });
    });

    describe('SAML connections', () => {
      it('creates one SAML connection per customer, and getCustomer returns it', async () => {
        const saml = makeSamlConnection(conn.customerId);
        expect(await store.getSamlConnection(conn.customerId)).toBeNull();
        expect(await store.createSamlConnection(saml)).toBe('created');
        expect(await store.getSamlConnection(conn.customerId)).toEqual(saml);
        expect(await store.createSamlConnection(makeSamlConnection(conn.customerId, { entryPoint: 'https://other.test/sso' }))).toBe('exists');
        expect(await store.getCustomer(conn.customerId)).toEqual({ connection: conn, client: null, saml, roleMapping: null });
        expect(await store.listCustomers()).toContain(conn.customerId);
      });

      it('keeps one SSO connection per customer: a SAML connection and an OIDC client exclude each other', async () => {
        const samlFirst = `cust-${randomUUID()}`;
        expect(await store.createSamlConnection(makeSamlConnection(samlFirst))).toBe('created');
        expect(await store.createOidcClient(makeOidcClient(samlFirst))).toBe('other_protocol');
        expect(await store.getOidcClient(samlFirst)).toBeNull();
        const oidcFirst = `cust-${randomUUID()}`;
        expect(await store.createOidcClient(makeOidcClient(oidcFirst))).toBe('created');
        expect(await store.createSamlConnection(makeSamlConnection(oidcFirst))).toBe('other_protocol');
        expect(await store.getSamlConnection(oidcFirst)).toBeNull();
        // Concurrent creates of both kinds: exactly one wins.
        const raced = `cust-${randomUUID()}`;
        const results = await Promise.all([store.createOidcClient(makeOidcClient(raced)), store.createSamlConnection(makeSamlConnection(raced))]);
        expect(results.filter((r) => r === 'created')).toHaveLength(1);
        expect(results.filter((r) => r === 'other_protocol')).toHaveLength(1);
      });

      it('replaces with compare-and-set on updatedAt, and deletes with the SSO users', async () => {
        const saml = makeSamlConnection(conn.customerId);
        expect(await store.replaceSamlConnection(saml)).toBe(false);
        await store.createSamlConnection(saml);
        const next = { ...saml, idpCerts: [...saml.idpCerts, 'second'], updatedAt: '2024-02-01T00:00:00.000Z' };
        expect(await store.replaceSamlConnection(next, 'stale')).toBe(false);
        expect(await store.getSamlConnection(conn.customerId)).toEqual(saml);
        expect(await store.replaceSamlConnection(next, saml.updatedAt)).toBe(true);
        expect(await store.getSamlConnection(conn.customerId)).toEqual(next);
        await store.recordSsoUser(conn.customerId, makeSsoUser('ann', '2024-01-01T00:00:00.000Z'));
        expect(await store.deleteSamlConnection(conn.customerId)).toBe(true);
        expect(await store.getSamlConnection(conn.customerId)).toBeNull();
        expect(await store.listSsoUsers(conn.customerId)).toEqual([]);
        expect(await store.deleteSamlConnection(conn.customerId)).toBe(false);
        expect(await store.getConnectionByCustomer(conn.customerId)).toEqual(conn);
        // The customer is free for an OIDC client again.
        expect(await store.createOidcClient(makeOidcClient(conn.customerId))).toBe('created');
      });

      it('refuses malformed records and ids, storing nothing', async () => {
        const customerId = `cust-${randomUUID()}`;
        await expect(store.createSamlConnection(makeSamlConnection(customerId, { idpCerts: [] }))).rejects.toThrow(TypeError);
        await expect(store.createSamlConnection(makeSamlConnection(customerId, { idpCerts: ['a', 'b', 'c', 'd'] }))).rejects.toThrow(TypeError);
        await expect(store.createSamlConnection(makeSamlConnection(customerId, { clockSkewSeconds: 301 }))).rejects.toThrow(TypeError);
        await expect(store.createSamlConnection(makeSamlConnection(customerId, { signed: 'none' as never }))).rejects.toThrow(TypeError);
        await expect(store.createSamlConnection(makeSamlConnection('bad id {x}'))).rejects.toThrow(TypeError);
        expect(await store.getSamlConnection(customerId)).toBeNull();
      });
    });

    describe('SAML assertion cache', () => {
      it('remembers an assertion ID once: the second time is a replay, also when raced', async () => {
        expect(await store.rememberSamlAssertion(conn.customerId, '_a1', 60_000)).toBe(true);
        expect(await store.rememberSamlAssertion(conn.customerId, '_a1', 60_000)).toBe(false);
        expect(await store.rememberSamlAssertion(`cust-${randomUUID()}`, '_a1', 60_000)).toBe(true);
        const raced = await Promise.all(Array.from({ length: 10 }, () => store.rememberSamlAssertion(conn.customerId, '_a2', 60_000)));
        expect(raced.filter(Boolean)).toHaveLength(1);
      });

      it('refuses unbounded or malformed arguments', async () => {
        await expect(store.rememberSamlAssertion(conn.customerId, '_a', 0)).rejects.toThrow(TypeError);
        await expect(store.rememberSamlAssertion(conn.customerId, '_a', 24 * 60 * 60 * 1000 + 1)).rejects.toThrow(TypeError);
        await expect(store.rememberSamlAssertion(conn.customerId, 'x'.repeat(201), 1000)).rejects.toThrow(TypeError);
        await expect(store.rememberSamlAssertion(conn.customerId, 'id with space', 1000)).rejects.toThrow(TypeError);
        await expect(store.rememberSamlAssertion('bad {id}', '_a', 1000)).rejects.toThrow(TypeError);
        await expect(store.rememberSamlAssertion(conn.customerId, '_a', 1.5)).rejects.toThrow(TypeError);
      });
    });

    describe('SSO users', () => {
      const t1 = '2024-03-01T10:00:00.000Z';
      const t2 = '2024-03-02T10:00:00.000Z';
      const t3 = '2024-03-03T10:00:00.000Z';

      it('records an SSO user, then updates it and keeps its firstSeenAt', async () => {
        const first = makeSsoUser('sub-1', t1);
        await store.recordSsoUser(conn.customerId, first);
        expect(await store.listSsoUsers(conn.customerId)).toEqual([first]);
        const later = makeSsoUser('sub-1', t2, {
          email: null,
          emailVerified: null,
          name: 'Ann Renamed',
          claims: { sub: 'sub-1', groups: ['a'], empty: [] },
          lastOutcome: 'refused',
          lastReason: 'deactivated',
          lastScimUserId: null,
        });
        await store.recordSsoUser(conn.customerId, later);
        expect(await store.listSsoUsers(conn.customerId)).toEqual([{ ...later, firstSeenAt: t1 }]);
      });

      it(`refuses a record over ${MAX_SSO_RECORD_BYTES} bytes of JSON, counted in bytes, and keeps the one stored`, async () => {
        const first = makeSsoUser('sub-1', t1);
        await store.recordSsoUser(conn.customerId, first);
        const near = makeSsoUser('sub-1', t2, { claims: { big: 'x'.repeat(MAX_SSO_RECORD_BYTES - 1000) } });
        await store.recordSsoUser(conn.customerId, near);
        // Two bytes of UTF-8 per character: under the limit in characters, over it in bytes.
        const over = makeSsoUser('sub-1', t3, { claims: { big: 'é'.repeat(MAX_SSO_RECORD_BYTES / 2) } });
        await expect(store.recordSsoUser(conn.customerId, over)).rejects.toThrow(TypeError);
        await expect(store.recordSsoUser(conn.customerId, makeSsoUser('sub-2', t3, { name: 'n'.repeat(MAX_SSO_RECORD_BYTES) }))).rejects.toThrow(TypeError);
        expect(await store.listSsoUsers(conn.customerId)).toEqual([{ ...near, firstSeenAt: t1 }]);
      });

      it('keeps the earlier firstSeenAt when an older record arrives late', async () => {
        await store.recordSsoUser(conn.customerId, makeSsoUser('sub-1', t2));
        await store.recordSsoUser(conn.customerId, makeSsoUser('sub-1', t1));
        expect(await store.listSsoUsers(conn.customerId)).toMatchObject([{ firstSeenAt: t1, lastSeenAt: t1 }]);
      });

      it('lists SSO users most recently seen first', async () => {
        await store.recordSsoUser(conn.customerId, makeSsoUser('a', t2));
        await store.recordSsoUser(conn.customerId, makeSsoUser('b', t3));
        await store.recordSsoUser(conn.customerId, makeSsoUser('c', t1));
        const subjects = async () => (await store.listSsoUsers(conn.customerId)).map((u) => u.subject);
        expect(await subjects()).toEqual(['b', 'a', 'c']);
        await store.recordSsoUser(conn.customerId, makeSsoUser('c', '2024-03-04T10:00:00.000Z'));
        expect(await subjects()).toEqual(['c', 'b', 'a']);
      });

      it('pages SSO users in that order, with the total, in pages of any size', async () => {
        const seen = ['2024-03-02T10:00:00.000Z', t1, t3, t2, t3];
        for (const [i, at] of seen.entries()) await store.recordSsoUser(conn.customerId, makeSsoUser(`s${i}`, at));
        const all = (await store.listSsoUsers(conn.customerId)).map((u) => u.subject);
        // Ties (s2 and s4 at t3) go by subject.
        expect(all).toEqual(['s2', 's4', 's0', 's3', 's1']);
        const page = async (offset: number, count: number) => {
          const p = await store.listSsoUserPage(conn.customerId, offset, count);
          return { total: p.total, subjects: p.users.map((u) => u.subject) };
        };
        expect(await page(0, 2)).toEqual({ total: 5, subjects: all.slice(0, 2) });
        expect(await page(2, 2)).toEqual({ total: 5, subjects: all.slice(2, 4) });
        expect(await page(4, 10)).toEqual({ total: 5, subjects: all.slice(4) });
        expect(await page(5, 1)).toEqual({ total: 5, subjects: [] });
        expect(await page(0, 0)).toEqual({ total: 5, subjects: [] });
        expect(await page(0, Number.MAX_SAFE_INTEGER)).toEqual({ total: 5, subjects: all });
        expect((await store.listSsoUserPage(conn.customerId, 0, 5)).users).toEqual(await store.listSsoUsers(conn.customerId));
        // A new login moves its SSO user to the front.
        await store.recordSsoUser(conn.customerId, makeSsoUser('s1', '2024-03-04T10:00:00.000Z'));
        expect(await page(0, 2)).toEqual({ total: 5, subjects: ['s1', 's2'] });
        expect(await store.listSsoUserPage(`cust-${randomUUID()}`, 0, 10)).toEqual({ total: 0, users: [] });
        await expect(store.listSsoUserPage(conn.customerId, -1, 10)).rejects.toThrow(TypeError);
        await expect(store.listSsoUserPage('a b', 0, 10)).rejects.toThrow(TypeError);
      });

      it('lists more SSO users than one sort run in the order bySeenDescending defines, logins after ties included', async () => {
        const count = 16 * SORT_RUN_WEIGHT + 300;
        const at = (i: number) => new Date(Date.UTC(2024, 0, 1) + ((i * 7919) % 5000) * 1000).toISOString();
        for (let i = 0; i < count; i += 500) {
          await Promise.all(
            Array.from({ length: Math.min(500, count - i) }, (_, k) => store.recordSsoUser(conn.customerId, makeSsoUser(`u${i + k}`, at(i + k)))),
          );
        }
        // Seen again later: they move to the front, in the memory store's kept order too.
        for (const i of [5, 4000, count - 1]) await store.recordSsoUser(conn.customerId, makeSsoUser(`u${i}`, '2024-06-01T00:00:00.000Z'));
        const listed = await store.listSsoUsers(conn.customerId);
        expect(listed.map((u) => u.subject)).toEqual([...listed].sort(bySeenDescending).map((u) => u.subject));
        expect(listed).toHaveLength(count);
        expect(listed.slice(0, 3).map((u) => u.subject)).toEqual([`u${count - 1}`, 'u4000', 'u5'].sort(byUtf8));
        expect((await store.listSsoUserPage(conn.customerId, 4000, 50)).users).toEqual(listed.slice(4000, 4050));
      }, 60_000);

      it('pages more SSO users than one script reads, recorded in the same millisecond', async () => {
        const subjects = Array.from({ length: 1205 }, (_, i) => `sub-${String(i).padStart(4, '0')}`);
        for (let i = 0; i < subjects.length; i += 100) {
          await Promise.all(subjects.slice(i, i + 100).map((s) => store.recordSsoUser(conn.customerId, makeSsoUser(s, t1))));
        }
        const page = await store.listSsoUserPage(conn.customerId, 100, 1100);
        expect(page.total).toBe(1205);
        expect(page.users.map((u) => u.subject)).toEqual(subjects.slice(100, 1200));
      });

      it('scans SSO users a batch at a time: each once, also those a login updates during the scan', async () => {
        const subjects = Array.from({ length: 30 }, (_, i) => `sub-${i}`);
        for (const s of subjects) await store.recordSsoUser(conn.customerId, makeSsoUser(s, t1));
        const scanned: string[] = [];
        let cursor = '0';
        let batches = 0;
        do {
          const batch = await store.scanSsoUsers(conn.customerId, cursor, 4);
          cursor = batch.cursor;
          batches++;
          scanned.push(...batch.users.map((u) => u.subject));
          // Everyone logs in again while the scan runs: nobody is skipped or repeated.
          if (batches === 2) for (const s of subjects) await store.recordSsoUser(conn.customerId, makeSsoUser(s, t2));
        } while (cursor !== '0');
        expect(scanned.sort()).toEqual([...subjects].sort());
        expect(batches).toBeGreaterThan(1);
        const fresh = await store.scanSsoUsers(conn.customerId, '0', 1000);
        expect(fresh.cursor).toBe('0');
        expect(fresh.users.find((u) => u.subject === 'sub-3')).toEqual(makeSsoUser('sub-3', t2, { firstSeenAt: t1 }));
        expect(await store.scanSsoUsers(`cust-${randomUUID()}`, '0', 10)).toEqual({ cursor: '0', users: [] });
        for (const bad of ['', '-1', 'x', '1.5']) await expect(store.scanSsoUsers(conn.customerId, bad, 10)).rejects.toThrow(TypeError);
      });

      describe('at most maxSsoUsersPerCustomer per customer', () => {
        const at = (minute: number) => new Date(Date.UTC(2024, 2, 1, 10, minute)).toISOString();
        const subjectsOf = async (s: Store, customerId: string) => (await s.listSsoUsers(customerId)).map((u) => u.subject);
        let capped: Store;
        beforeEach(async () => {
          ({ store: capped } = await makeStore({ now, maxSsoUsersPerCustomer: 5 }));
        });
        afterEach(async () => {
          await capped.close?.();
        });

        it('refuses a cap that is not a positive integer', async () => {
          for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '5' as unknown as number]) {
            await expect(makeStore({ maxSsoUsersPerCustomer: bad })).rejects.toThrow(/maxSsoUsersPerCustomer/);
            await expect(makeStore({ maxSsoUserBytesPerCustomer: bad })).rejects.toThrow(/maxSsoUserBytesPerCustomer/);
          }
        });

        it('drops the least recently seen for a new subject past the cap, per customer', async () => {
          for (let i = 0; i < 5; i++) await capped.recordSsoUser(conn.customerId, makeSsoUser(`s${i}`, at(i)));
          const other = `cust-${randomUUID()}`;
          for (let i = 0; i < 5; i++) await capped.recordSsoUser(other, makeSsoUser(`o${i}`, at(i)));
          // s0 logs in again: now the most recent; an update at the cap drops nobody.
          await capped.recordSsoUser(conn.customerId, makeSsoUser('s0', at(10)));
          expect(await subjectsOf(capped, conn.customerId)).toEqual(['s0', 's4', 's3', 's2', 's1']);
          await capped.recordSsoUser(conn.customerId, makeSsoUser('s5', at(11)));
          expect(await subjectsOf(capped, conn.customerId)).toEqual(['s5', 's0', 's4', 's3', 's2']);
          expect(await capped.getSsoUser(conn.customerId, 's1')).toBeNull();
          for (const s of ['s6', 's7', 's8']) await capped.recordSsoUser(conn.customerId, makeSsoUser(s, at(12)));
          expect(await subjectsOf(capped, conn.customerId)).toEqual(['s6', 's7', 's8', 's5', 's0']);
          expect(await capped.listSsoUserPage(conn.customerId, 0, 10)).toMatchObject({ total: 5 });
          const scanned = (await capped.scanSsoUsers(conn.customerId, '0', 1000)).users.map((u) => u.subject);
          expect(scanned.sort()).toEqual(['s0', 's5', 's6', 's7', 's8']);
          // The other customer's records are its own: none of them was dropped.
          expect(await subjectsOf(capped, other)).toEqual(['o4', 'o3', 'o2', 'o1', 'o0']);
          // A dropped subject that logs in again is recorded anew.
          await capped.recordSsoUser(conn.customerId, makeSsoUser('s1', at(20)));
          expect(await capped.getSsoUser(conn.customerId, 's1')).toEqual(makeSsoUser('s1', at(20)));
          expect(await subjectsOf(capped, conn.customerId)).toEqual(['s1', 's6', 's7', 's8', 's5']);
        });

        it('drops the least recently seen past maxSsoUserBytesPerCustomer too, never the record just made', async () => {
          // Found by a review (2026-12-06): an IdP can make each record 9-32 KB with made-up claims, so a
          // count alone let one customer hold tens of GB.
          const { store: small } = await makeStore({ now, maxSsoUserBytesPerCustomer: 4000 });
          const padded = (subject: string, minute: number) => makeSsoUser(subject, at(minute), { claims: { sub: subject, pad: 'p'.repeat(900) } });
          for (let i = 0; i < 10; i++) await small.recordSsoUser(conn.customerId, padded(`b${i}`, i));
          // Records of about 1.2 KB each: three fit in 4,000 bytes, four do not.
          expect(await subjectsOf(small, conn.customerId)).toEqual(['b9', 'b8', 'b7']);
          // A record over the whole budget is kept alone, until the next one.
          const huge = makeSsoUser('huge', at(20), { claims: { pad: 'h'.repeat(6000) } });
          await small.recordSsoUser(conn.customerId, huge);
          expect(await subjectsOf(small, conn.customerId)).toEqual(['huge']);
          await small.recordSsoUser(conn.customerId, padded('after', 21));
          expect(await subjectsOf(small, conn.customerId)).toEqual(['after']);
          // Through recordLogin as well.
          const attempt = { connectionId: null, lookup: null, inactiveWhenFalse: 'active', user: padded('login', 22) };
          await small.recordLogin(conn.customerId, attempt);
          expect(await subjectsOf(small, conn.customerId)).toEqual(['login', 'after']);
          await small.close?.();
        });

        it('drops through recordLogin too, whatever the login decides', async () => {
          for (let i = 0; i < 5; i++) await capped.recordSsoUser(conn.customerId, makeSsoUser(`s${i}`, at(i)));
          const attempt = { connectionId: null, lookup: null, inactiveWhenFalse: 'active', user: makeSsoUser('new', at(30)) };
          expect((await capped.recordLogin(conn.customerId, attempt)).recorded).toMatchObject({ lastOutcome: 'admitted' });
          expect(await subjectsOf(capped, conn.customerId)).toEqual(['new', 's4', 's3', 's2', 's1']);
          expect(await capped.createConnection(conn)).toBe('created');
          const looked = { ...attempt, connectionId: cid, lookup: { attribute: 'userName', value: 'nobody' }, user: makeSsoUser('newer', at(31)) };
          expect((await capped.recordLogin(conn.customerId, looked)).recorded).toMatchObject({ lastOutcome: 'refused', lastReason: 'not_provisioned' });
          expect(await subjectsOf(capped, conn.customerId)).toEqual(['newer', 'new', 's4', 's3', 's2']);
        });

        it('answers each kept user once to a scan while the cap drops others and new ones arrive', async () => {
          for (let i = 0; i < 5; i++) await capped.recordSsoUser(conn.customerId, makeSsoUser(`s${i}`, at(i)));
          const scanned: string[] = [];
          let cursor = '0';
          let batches = 0;
          do {
            const batch = await capped.scanSsoUsers(conn.customerId, cursor, 1);
            cursor = batch.cursor;
            scanned.push(...batch.users.map((u) => u.subject));
            // s3 and s4 stay the most recent all along; each new subject drops the least recently seen.
            if (++batches === 2) {
              for (const s of ['s3', 's4']) await capped.recordSsoUser(conn.customerId, makeSsoUser(s, at(50)));
              for (let i = 0; i < 3000; i++) await capped.recordSsoUser(conn.customerId, makeSsoUser(`n${i}`, at(40)));
            }
          } while (cursor !== '0' && batches < 10_000);
          expect(cursor).toBe('0');
          expect(new Set(scanned).size).toBe(scanned.length);
          expect(scanned).toEqual(expect.arrayContaining(['s3', 's4']));
          const kept = await subjectsOf(capped, conn.customerId);
          expect(kept.slice(0, 2)).toEqual(['s3', 's4']);
          expect(kept).toHaveLength(5);
        }, 60_000);
      });

      it('reads one SSO user by subject', async () => {
        await store.recordSsoUser(conn.customerId, makeSsoUser('Zoë 😀', t1));
        await store.recordSsoUser(conn.customerId, makeSsoUser('Zoë 😀', t2));
        expect(await store.getSsoUser(conn.customerId, 'Zoë 😀')).toEqual(makeSsoUser('Zoë 😀', t2, { firstSeenAt: t1 }));
        expect(await store.getSsoUser(conn.customerId, 'zoë 😀')).toBeNull();
        expect(await store.getSsoUser(conn.customerId, 'a\nb')).toBeNull();
        expect(await store.getSsoUser(`cust-${randomUUID()}`, 'Zoë 😀')).toBeNull();
        await expect(store.getSsoUser('a b', 'x')).rejects.toThrow(TypeError);
      });

      it('orders subjects of one moment as Redis orders bytes (code points), not as UTF-16 units', async () => {
        // U+FF5E is one UTF-16 unit above the surrogates of U+1F600, but a smaller code point.
        for (const subject of ['😀', '～', 'a']) await store.recordSsoUser(conn.customerId, makeSsoUser(subject, t1));
        expect((await store.listSsoUserPage(conn.customerId, 0, 10)).users.map((u) => u.subject)).toEqual(['a', '～', '😀']);
        expect((await store.listSsoUsers(conn.customerId)).map((u) => u.subject)).toEqual(['a', '～', '😀']);
      });

      it('keeps SSO users per customer and accepts any subject without control characters', async () => {
        const other = `cust-${randomUUID()}`;
        const subjects = ['has space', 'a{b}c:d', 'Zoë 😀 例え', 's'.repeat(1000)];
        for (const subject of subjects) await store.recordSsoUser(conn.customerId, makeSsoUser(subject, t1));
        await store.recordSsoUser(other, makeSsoUser('has space', t2));
        const mine = (await store.listSsoUsers(conn.customerId)).map((u) => u.subject);
        expect(mine.sort()).toEqual([...subjects].sort());
        expect(await store.listSsoUsers(other)).toEqual([makeSsoUser('has space', t2)]);
        expect(await store.listSsoUsers(`cust-${randomUUID()}`)).toEqual([]);
      });

      it('returns copies that callers cannot use to change the store', async () => {
        const user = makeSsoUser('sub-1', t1);
        await store.recordSsoUser(conn.customerId, user);
        (user.claims as { groups: string[] }).groups.push('mutated-input');
        const [found] = await store.listSsoUsers(conn.customerId);
        found!.claims.sub = 'changed';
        expect(await store.listSsoUsers(conn.customerId)).toEqual([makeSsoUser('sub-1', t1)]);
      });

      it('rejects malformed SSO users and customer ids', async () => {
        for (const subject of ['', 'a\nb', 'a\u0000b', 's'.repeat(1001)]) {
          await expect(store.recordSsoUser(conn.customerId, makeSsoUser(subject, t1))).rejects.toThrow(TypeError);
        }
        const wrong = [
          { claims: null },
          { claims: ['a'] },
          { lastOutcome: 'maybe' },
          { emailVerified: 'yes' },
          { firstSeenAt: '' },
          { lastSeenAt: 'x\ny' },
        ] as unknown as Partial<StoredSsoUser>[];
        for (const overrides of wrong) {
          await expect(store.recordSsoUser(conn.customerId, makeSsoUser('sub', t1, overrides))).rejects.toThrow(TypeError);
        }
        await expect(store.recordSsoUser('a b', makeSsoUser('sub', t1))).rejects.toThrow(TypeError);
        await expect(store.listSsoUsers('a{b')).rejects.toThrow(TypeError);
        expect(await store.listSsoUsers(conn.customerId)).toEqual([]);
      });
    });

    describe('customers', () => {
      it('lists customers with a SCIM connection, an OIDC client or both, sorted', async () => {
        const clientOnly = `cust-${randomUUID()}`;
        await store.createOidcClient(makeOidcClient(clientOnly));
        await store.createOidcClient(makeOidcClient(conn.customerId));
        const connectionOnly = makeConnection();
        await store.createConnection(connectionOnly);
        await store.recordSsoUser(`cust-${randomUUID()}`, makeSsoUser('sub', '2024-01-01T00:00:00.000Z'));
        expect(await store.listCustomers()).toEqual([clientOnly, conn.customerId, connectionOnly.customerId].sort());
      });

      it('drops a customer once neither its connection nor its OIDC client is left', async () => {
        const clientOnly = `cust-${randomUUID()}`;
        await store.createOidcClient(makeOidcClient(clientOnly));
        await store.createOidcClient(makeOidcClient(conn.customerId));
        expect(await store.listCustomers()).toEqual([clientOnly, conn.customerId].sort());
        await store.deleteConnection(cid);
        expect(await store.listCustomers()).toEqual([clientOnly, conn.customerId].sort());
        await store.deleteOidcClient(conn.customerId);
        expect(await store.listCustomers()).toEqual([clientOnly]);
        await store.deleteOidcClient(clientOnly);
        expect(await store.listCustomers()).toEqual([]);
        // And in the other order: client first, then the connection.
        const both = makeConnection();
        await store.createConnection(both);
        await store.createOidcClient(makeOidcClient(both.customerId));
        await store.deleteOidcClient(both.customerId);
        expect(await store.listCustomers()).toEqual([both.customerId]);
        await store.deleteConnection(both.connectionId);
        expect(await store.listCustomers()).toEqual([]);
      });
    });

    describe('tombstones: fixed-size digests, retention and cap', () => {
      const DAY = 24 * 60 * 60 * 1000;
      const deleted = async (s: Store, c: string, attribute: string, value: string) => ({
        login: (await s.findUsersForLogin(c, attribute, value)).deletedMatch,
        report: (await s.findUsersForLoginBatch(c, [{ attribute, value }]))[0]!.deletedMatch,
      });
      const deletedFlags = async (s: Store, c: string, lookups: { attribute: string; value: string }[]) =>
        (await s.findUsersForLoginBatch(c, lookups)).map((b) => b.deletedMatch);

      it('remembers a deleted 400 KB value as deleted, and a value differing in one character as never held', async () => {
        const big = `${'x'.repeat(400_000)}@example.com`;
        const id = await createUser(big);
        expect(await store.deleteResource(cid, 'User', id)).toBe(true);
        expect(await deleted(store, cid, 'userName', big)).toEqual({ login: true, report: true });
        expect(await deleted(store, cid, 'userName', `y${big.slice(1)}`)).toEqual({ login: false, report: false });
        expect(await deleted(store, cid, 'userNameLocal', 'x'.repeat(400_000))).toEqual({ login: true, report: true });
        // The attribute is part of the digest: the same value under another attribute was never held.
        expect(await deleted(store, cid, 'externalId', big)).toEqual({ login: false, report: false });
      });

      it('counts a tombstone for 90 days by default, then no longer', async () => {
        const id = await createUser('ann', { externalId: 'e1' });
        await store.deleteResource(cid, 'User', id);
        clock.now += 90 * DAY - 1;
        expect(await deleted(store, cid, 'externalId', 'e1')).toEqual({ login: true, report: true });
        clock.now += 1;
        expect(await deleted(store, cid, 'externalId', 'e1')).toEqual({ login: false, report: false });
        expect(await store.findUsersForLogin(cid, 'userName', 'ann')).toEqual({ users: [], deletedMatch: false });
      });

      it('applies a configured retention, and a later deletion renews a value’s tombstone', async () => {
        const made = await makeStore({ now, tombstoneRetentionMs: 1000 });
        try {
          const s = made.store;
          const c = makeConnection();
          await s.createConnection(c);
          await s.createResource(c.connectionId, userWrite('a1', 'ann'));
          await s.deleteResource(c.connectionId, 'User', 'a1');
          clock.now += 600;
          await s.createResource(c.connectionId, userWrite('a2', 'ann'));
          await s.deleteResource(c.connectionId, 'User', 'a2');
          clock.now += 600; // 1200 ms after the first deletion, 600 after the second
          expect(await deleted(s, c.connectionId, 'userName', 'ann')).toEqual({ login: true, report: true });
          clock.now += 400;
          expect(await deleted(s, c.connectionId, 'userName', 'ann')).toEqual({ login: false, report: false });
          // Expired tombstones are dropped by later deletions (bounded work each), and reads stay right.
          await s.createResource(c.connectionId, userWrite('b1', 'bob'));
          await s.deleteResource(c.connectionId, 'User', 'b1');
          expect(await deleted(s, c.connectionId, 'userName', 'bob')).toEqual({ login: true, report: true });
          expect(await deleted(s, c.connectionId, 'userName', 'ann')).toEqual({ login: false, report: false });
        } finally {
          await made.store.close?.();
          await made.cleanup();
        }
      });

      it('keeps at most maxTombstones per connection, dropping the oldest first', async () => {
        const made = await makeStore({ now, maxTombstones: 4 });
        try {
          const s = made.store;
          const c = makeConnection();
          const other = makeConnection();
          await s.createConnection(c);
          await s.createConnection(other);
          // Each user holds two index entries (userName, userNameLocal): the cap keeps the last two users.
          for (const name of ['u1', 'u2', 'u3']) {
            clock.now += 1000;
            await s.createResource(c.connectionId, userWrite(name, name));
            await s.deleteResource(c.connectionId, 'User', name);
          }
          await s.createResource(other.connectionId, userWrite('o1', 'o1'));
          await s.deleteResource(other.connectionId, 'User', 'o1');
          const flags = await deletedFlags(
            s,
            c.connectionId,
            ['u1', 'u2', 'u3'].map((value) => ({ attribute: 'userName', value })),
          );
          expect(flags).toEqual([false, true, true]);
          expect((await s.findUsersForLogin(c.connectionId, 'userNameLocal', 'u1')).deletedMatch).toBe(false);
          expect((await s.findUsersForLogin(c.connectionId, 'userNameLocal', 'u3')).deletedMatch).toBe(true);
          // The cap is per connection: another connection's deletions do not push these out.
          expect(await deletedFlags(s, other.connectionId, [{ attribute: 'userName', value: 'o1' }])).toEqual([true]);
          expect(await deletedFlags(s, c.connectionId, [{ attribute: 'userName', value: 'u3' }])).toEqual([true]);
        } finally {
          await made.store.close?.();
          await made.cleanup();
        }
      });

      it('rejects invalid tombstone options', async () => {
        await expect(makeStore({ tombstoneRetentionMs: 0 })).rejects.toThrow(TypeError);
        await expect(makeStore({ maxTombstones: -1 })).rejects.toThrow(TypeError);
        await expect(makeStore({ tombstoneRetentionMs: 1.5 })).rejects.toThrow(TypeError);
      });
    });

    describe('pages of users in many groups', () => {
      // u0 and u1 are in `heavy` groups each, whose ids are 36 characters as the SCIM layer's are: together
      // past what one script derives (GROUP_IDS_PER_SCRIPT), so u1's groups are read by a further script.
      const heavy = Math.ceil(GROUP_IDS_PER_SCRIPT / 2 / GROUP_ID_BYTES) + 100;
      const gid = (n: number) => `g${n}`.padEnd(36, '-');
      const users = ['u0', 'u1', 'u2', 'u3', 'u4'];
      /** Groups from..to-1, each listing u0 and u1. */
      const joinBoth = async (from: number, to: number) => {
        for (let at = from; at < to; at += 500) {
          await Promise.all(
            Array.from({ length: Math.min(500, to - at) }, (_, j) =>
              store.createResource(cid, groupWrite(gid(at + j), gid(at + j), [{ value: 'u0' }, { value: 'u1' }])),
            ),
          );
        }
      };
      beforeEach(async () => {
        for (const kind of ['User', 'Group'] as const) expect(await store.sortBacklog(cid, kind, 1)).toMatchObject({ done: true });
        for (const [i, id] of users.entries()) {
          const externalId = i < 2 ? 'shared' : `e${i}`;
          await store.createResource(cid, { ...userWrite(id, `user${i}`, { externalId }), sortKeys: [{ attribute: 'userName', value: `user${i}` }] });
        }
        await joinBoth(0, heavy);
      });

      it('answers whole pages with the groups of every user, by offset, sort order and cursor', async () => {
        const groupsOf = (page: { resources: StoredResource[] }) => page.resources.map((u) => [u.id, u.groups?.length]);
        const want = users.map((id) => [id, id === 'u0' || id === 'u1' ? heavy : 0]);
        expect(groupsOf(await store.listPage(cid, 'User', 0, 10))).toEqual(want);
        expect(groupsOf((await store.listSorted(cid, 'User', { attribute: 'userName', descending: true }, 0, 10))!)).toEqual([...want].reverse());
        const cursor = await store.listAfter(cid, 'User', 0, 10);
        expect([groupsOf(cursor), cursor.next]).toEqual([want, null]);
        expect((await store.listPage(cid, 'User', 1, 1)).resources[0]!.groups![heavy - 1]).toEqual({ value: gid(heavy - 1), display: gid(heavy - 1) });
      });

      it('ends a page early where its users pass GROUP_IDS_PER_PAGE, keeping at least one, and a walk by what came back sees everyone', async () => {
        // Many users in a few hundred groups each (linking a member costs O(its groups), so fewer, fuller
        // entries would make this setup slow): x0, x1, … come after u0…u4 and are in `groups` groups each.
        const groups = 250;
        const extra = Array.from({ length: Math.ceil(GROUP_IDS_PER_PAGE / (groups * GROUP_ID_BYTES)) + 10 }, (_, i) => `x${i}`);
        for (const id of extra) await store.createResource(cid, { ...userWrite(id, id), sortKeys: [{ attribute: 'userName', value: id }] });
        for (let at = 0; at < groups; at += 50) {
          await Promise.all(
            Array.from({ length: 50 }, (_, j) =>
              store.createResource(
                cid,
                groupWrite(
                  gid(100_000 + at + j),
                  gid(100_000 + at + j),
                  extra.map((value) => ({ value })),
                ),
              ),
            ),
          );
        }
        const all = [...users, ...extra];
        // What each user's groups take in the reverse index; the page keeps users while they fit (at least one).
        const groupsOf = (id: string) => (id === 'u0' || id === 'u1' ? heavy : id.startsWith('x') ? groups : 0);
        const bytes = (id: string) => Math.max(0, groupsOf(id) * GROUP_ID_BYTES - 1);
        let spent = 0;
        const kept = all.findIndex((id) => (spent += bytes(id)) > GROUP_IDS_PER_PAGE);
        expect(kept).toBeGreaterThan(users.length);
        const first = await store.listPage(cid, 'User', 0, 1000);
        expect({ total: first.total, ids: ids(first.resources) }).toEqual({ total: all.length, ids: all.slice(0, kept) });
        expect(ids((await store.listPage(cid, 'User', kept, 1000)).resources)).toEqual(all.slice(kept));
        // Read without their groups, the users are whole pages and carry no `groups`.
        const bare = await store.listPage(cid, 'User', 0, 1000, { groups: false });
        expect([ids(bare.resources), bare.resources.some((u) => 'groups' in u)]).toEqual([all, false]);
        expect(ids((await store.listAfter(cid, 'User', 0, 1000, { groups: false })).resources)).toEqual(all);
        // In a sort order, and by cursor: the cut page says more follows, and the walk resumes after its last user.
        const sorted = await store.listSorted(cid, 'User', { attribute: 'userName', descending: false }, 0, 1000);
        expect(sorted!.resources.length).toBeLessThan(all.length);
        const walked: string[] = [];
        for (let after = 0, pages = 0; ; pages++) {
          const page = await store.listAfter(cid, 'User', after, 1000);
          walked.push(...ids(page.resources));
          if (pages === 0) expect(page).toMatchObject({ next: page.resources.at(-1)!.seq });
          if (page.next === null) break;
          after = page.next;
        }
        expect(walked).toEqual(all);
      }, 120_000);

      it('answers an index lookup with the groups of every user found, and the guard lookup with those of its one active holder, however many', async () => {
        const want = [
          ['u0', heavy],
          ['u1', heavy],
        ];
        expect((await store.findByIndex(cid, 'User', 'externalId', 'shared')).map((u) => [u.id, u.groups?.length])).toEqual(want);
        expect(ids((await store.findUsersForLogin(cid, 'externalId', 'shared')).users)).toEqual(['u0', 'u1']);
        // u0 deactivated: u1 is the one a login can admit, and comes with all its groups (the second script's too).
        const json = JSON.stringify({ id: 'u0', userName: 'user0', externalId: 'shared', active: false });
        const version = (await store.getResource(cid, 'User', 'u0'))!.version;
        const write = { ...userWrite('u0', 'user0', { externalId: 'shared', json }), sortKeys: [{ attribute: 'userName', value: 'user0' }] };
        expect(await store.replaceResource(cid, write, version)).toMatchObject({ ok: true });
        const found = (await store.findUsersForLogin(cid, 'externalId', 'shared')).users;
        expect([ids(found), found[1]!.groups?.length]).toEqual([['u0', 'u1'], heavy]);
      });

      it('answers a login batch with the groups of every user it finds, however many', async () => {
        const lookups = users.flatMap((_, i) => [{ attribute: 'userName', value: `user${i}` }]);
        const found = await store.findUsersForLoginBatch(cid, [...lookups, ...lookups]);
        const counts = found.map((answer) => answer.users.map((u) => u.groups?.length));
        expect(counts).toEqual([...users, ...users].map((id) => [id === 'u0' || id === 'u1' ? heavy : 0]));
        expect(found[1]!.users[0]!.groups![heavy - 1]).toEqual({ value: gid(heavy - 1), display: gid(heavy - 1) });
      });
    });

    describe('pages of groups with many members', () => {
      // Two groups whose members together pass PAGE_MEMBERS_BUDGET; each alone is within it.
      const size = PAGE_MEMBERS_BUDGET / 2 + 1;
      const list = (tag: string): StoredMember[] => Array.from({ length: size }, (_, i) => ({ value: `${tag}${i}` }));
      beforeEach(async () => {
        for (const gid of ['g1', 'g2']) expect(await store.createResource(cid, groupWrite(gid, gid, list(gid)))).toMatchObject({ ok: true });
        expect(await store.createResource(cid, groupWrite('g3', 'g3', [{ value: 'x' }]))).toMatchObject({ ok: true });
      }, 120_000);

      it('ends a page read with members after the group that passes the budget, and not one read without them', async () => {
        const withMembers = await store.listPage(cid, 'Group', 0, 10);
        expect(ids(withMembers.resources)).toEqual(['g1']);
        expect(withMembers.resources[0]!.members).toHaveLength(size);
        expect(ids((await store.listPage(cid, 'Group', 1, 10)).resources)).toEqual(['g2', 'g3']);
        expect(ids((await store.listPage(cid, 'Group', 0, 10, { members: false })).resources)).toEqual(['g1', 'g2', 'g3']);
        const first = await store.listAfter(cid, 'Group', 0, 10);
        expect(ids(first.resources)).toEqual(['g1']);
        expect(ids((await store.listAfter(cid, 'Group', first.next!, 10)).resources)).toEqual(['g2', 'g3']);
        await store.sortBacklog(cid, 'Group', 10);
        expect(ids((await store.listSorted(cid, 'Group', { attribute: null, descending: true }, 0, 10))!.resources)).toEqual(['g3', 'g2']);
      });
    });

    describe('quotas', () => {
      const roomy = { maxUsers: 1_000, maxGroups: 1_000, maxBytes: 1_000_000 };

      it('refuses a user over maxUsers and a group over maxGroups, leaving no trace, and accepts again after a delete', async () => {
        const quota = { ...roomy, maxUsers: 2, maxGroups: 1 };
        expect(await store.createResource(cid, userWrite('u1', 'a'), quota)).toEqual({ ok: true, version: 1 });
        expect(await store.createResource(cid, userWrite('u2', 'b'), quota)).toEqual({ ok: true, version: 1 });
        expect(await store.createResource(cid, userWrite('u3', 'c', { externalId: 'e3' }), quota)).toEqual({
          ok: false,
          reason: 'quota',
          quota: 'users',
          limit: 2,
        });
        expect(await store.getResource(cid, 'User', 'u3')).toBeNull();
        expect(await store.findByIndex(cid, 'User', 'externalId', 'e3')).toEqual([]);
        expect(await store.createResource(cid, groupWrite('g1', 'G1', [{ value: 'u1' }]), quota)).toEqual({ ok: true, version: 1 });
        expect(await store.createResource(cid, groupWrite('g2', 'G2'), quota)).toEqual({
          ok: false,
          reason: 'quota',
          quota: 'groups',
          limit: 1,
        });
        // Updates of existing resources do not count against the resource quotas.
        // (u1 is at version 2: joining g1 changed its derived groups.)
        expect(await store.replaceResource(cid, userWrite('u1', 'a', { json: '{"v":2}' }), 2, quota)).toEqual({
          ok: true,
          version: 3,
          groups: [{ value: 'g1', display: 'G1' }],
        });
        expect(await store.deleteResource(cid, 'User', 'u2')).toBe(true);
        expect(await store.createResource(cid, userWrite('u3', 'c'), quota)).toEqual({ ok: true, version: 1 });
        // A uniqueness conflict is reported before the quota.
        expect(await store.createResource(cid, userWrite('u4', 'a'), quota)).toMatchObject({ reason: 'uniqueness' });
        expect(await store.getUsage(cid)).toMatchObject({ users: 2, groups: 1 });
      });

      it('counts bytes exactly as resourceBytes does, through creates, replaces, member removals and deletes', async () => {
        const ann = userWrite('u1', 'ann@x.com', { externalId: 'é1', emails: ['ann@x.com'] });
        const bob = userWrite('u2', 'bob', { json: '{"name":"Bøb 😀"}' });
        await store.createResource(cid, ann);
        await store.createResource(cid, bob);
        const members = [{ value: 'u1', display: 'Ann', type: 'User' }, { value: 'ghost' }, { value: 'u2', display: 'Bøb' }];
        const group = groupWrite('g1', 'Team', members);
        await store.createResource(cid, group);
        const expected = (writes: ResourceWrite[]) => writes.reduce((n, w) => n + resourceBytes(normalizeResourceWrite(w)), 0);
        expect(await store.getUsage(cid)).toEqual({ users: 2, groups: 1, bytes: expected([ann, bob, group]) });
        const renamed = userWrite('u1', 'ann@y.com', { externalId: 'é1', json: '{}' });
        // Version 2: joining g1 changed u1's derived groups.
        expect(await store.replaceResource(cid, renamed, 2)).toMatchObject({ ok: true });
        expect((await store.getUsage(cid)).bytes).toBe(expected([renamed, bob, group]));
        // Deleting u1 removes it from the group: the group's member bytes shrink by that member's share.
        await store.deleteResource(cid, 'User', 'u1');
        const shrunk = resourceBytes(normalizeResourceWrite(group)) - memberBytes(members[0]!);
        expect((await store.getUsage(cid)).bytes).toBe(expected([bob]) + shrunk);
        const regrouped = groupWrite('g1', 'Team', [{ value: 'u2' }]);
        await store.replaceResource(cid, regrouped, 2);
        expect((await store.getUsage(cid)).bytes).toBe(expected([bob, regrouped]));
        await store.deleteResource(cid, 'Group', 'g1');
        await store.deleteResource(cid, 'User', 'u2');
        expect(await store.getUsage(cid)).toEqual({ users: 0, groups: 0, bytes: 0 });
        expect(await store.getUsage('conn-unknown')).toEqual({ users: 0, groups: 0, bytes: 0 });
      });

      it('refuses writes that would grow past maxBytes, never one that shrinks or keeps the size', async () => {
        const small = userWrite('u1', 'ann', { json: JSON.stringify({ pad: 'x'.repeat(100) }) });
        await store.createResource(cid, small);
        const used = (await store.getUsage(cid)).bytes;
        const grown = userWrite('u1', 'ann', { json: JSON.stringify({ pad: 'x'.repeat(200) }) });
        const tight = { ...roomy, maxBytes: used + 50 };
        expect(await store.replaceResource(cid, grown, 1, tight)).toEqual({ ok: false, reason: 'quota', quota: 'bytes', limit: used + 50 });
        expect(await store.getResource(cid, 'User', 'u1')).toMatchObject({ version: 1, json: small.json });
        expect(await store.createResource(cid, userWrite('u2', 'a-longer-name-than-fifty-bytes-of-quota-left-here'), tight)).toMatchObject({
          reason: 'quota',
          quota: 'bytes',
        });
        // Over the quota already (it was lowered): a same-size update and a shrinking one still pass.
        const over = { ...roomy, maxBytes: 10 };
        expect(await store.replaceResource(cid, userWrite('u1', 'ann', { json: small.json }), 1, over)).toEqual({ ok: true, version: 2, groups: [] });
        const shrunk = userWrite('u1', 'ann', { json: '{}' });
        expect(await store.replaceResource(cid, shrunk, 2, over)).toEqual({ ok: true, version: 3, groups: [] });
        expect((await store.getUsage(cid)).bytes).toBe(resourceBytes(normalizeResourceWrite(shrunk)));
        expect(await store.deleteResource(cid, 'User', 'u1')).toBe(true);
      });

      it('admits exactly maxUsers of 20 concurrent creates', async () => {
        const quota = { ...roomy, maxUsers: 5 };
        const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.createResource(cid, userWrite(`u${i}`, `user${i}`), quota)));
        expect(results.filter((r) => r.ok)).toHaveLength(5);
        expect(results.filter((r) => !r.ok && r.reason === 'quota')).toHaveLength(15);
        expect((await store.listPage(cid, 'User', 0, 100)).total).toBe(5);
      });

      describe('maxGroupsPerMember', () => {
        // Group ids of 36 characters, as the SCIM layer issues: the limit counts GROUP_ID_BYTES per group.
        const capped = { ...roomy, maxGroupsPerMember: 3 };
        const g = (name: string) => name.padEnd(36, '-');
        const refusal = (member: string) => ({ ok: false, reason: 'quota', quota: 'groupsPerMember', limit: 3, member });
        const groupsOf = async (uid: string) => (await store.getResource(cid, 'User', uid))?.groups?.map((g) => g.value);
        const membersOf = async (gid: string) => (await store.listGroupMembers(cid, gid, 0, 5000))?.members.map((m) => m.value);

        beforeEach(async () => {
          await store.createResource(cid, userWrite('u1', 'ann'));
          await store.createResource(cid, userWrite('u2', 'bob'));
          for (const gid of [g('g1'), g('g2'), g('g3')])
            expect(await store.createResource(cid, groupWrite(gid, gid, [{ value: 'u1' }]), capped)).toMatchObject({ ok: true });
        });

        it('refuses a create or a full replace that adds a member already at the cap, changing nothing', async () => {
          expect(await store.createResource(cid, groupWrite(g('g4'), g('g4'), [{ value: 'u2' }, { value: 'u1' }]), capped)).toEqual(refusal('u1'));
          expect(await store.getResource(cid, 'Group', g('g4'))).toBeNull();
          expect(await groupsOf('u2')).toEqual([]);
          await store.createResource(cid, groupWrite(g('g4'), g('g4'), [{ value: 'u2' }]), capped);
          expect(await store.replaceResource(cid, groupWrite(g('g4'), g('g4'), [{ value: 'u2' }, { value: 'u1' }]), 1, capped)).toEqual(refusal('u1'));
          expect(await membersOf(g('g4'))).toEqual(['u2']);
          expect(await groupsOf('u1')).toEqual([g('g1'), g('g2'), g('g3')]);
          expect(await store.getResource(cid, 'User', 'u1')).toMatchObject({ version: 4 });
          // A list that keeps a member it already has adds no membership: it passes.
          expect(await store.replaceResource(cid, groupWrite(g('g1'), g('g1'), [{ value: 'u2' }, { value: 'u1' }]), 1, capped)).toMatchObject({ ok: true });
        });

        it('refuses member changes that add a member at the cap, and accepts them once it has left a group', async () => {
          await store.createResource(cid, groupWrite(g('g4'), g('g4')), capped);
          const add = (version: number) =>
            store.replaceResource(
              cid,
              { ...groupWrite(g('g4'), g('g4')), members: undefined, memberChanges: { remove: [], add: [{ value: 'u2' }, { value: 'u1' }] } },
              version,
              capped,
            );
          expect(await add(1)).toEqual(refusal('u1'));
          expect(await membersOf(g('g4'))).toEqual([]);
          // Removing and adding a member a group already has is no new membership.
          const same = { ...groupWrite(g('g1'), g('g1')), members: undefined, memberChanges: { remove: ['u1'], add: [{ value: 'u1' }] } };
          expect(await store.replaceResource(cid, same, 1, capped)).toMatchObject({ ok: true });
          expect(
            await store.replaceResource(cid, { ...groupWrite(g('g2'), g('g2')), members: undefined, memberChanges: { remove: ['u1'], add: [] } }, 1, capped),
          ).toMatchObject({ ok: true });
          expect(await add(1)).toMatchObject({ ok: true });
          expect(await groupsOf('u1')).toEqual([g('g1'), g('g3'), g('g4')]);
          // Without the key the cap is not checked.
          expect(await store.createResource(cid, groupWrite(g('g5'), g('g5'), [{ value: 'u1' }]), roomy)).toMatchObject({ ok: true });
          expect(await groupsOf('u1')).toHaveLength(4);
        });

        it('refuses a long (staged) list holding a member at the cap and leaves nothing behind', async () => {
          const usage = await store.getUsage(cid);
          const range = (from: number, to: number): StoredMember[] => Array.from({ length: to - from }, (_, i) => ({ value: `m${from + i}` }));
          const list = [...range(0, 1500), { value: 'u1' }];
          // The write's own checks come first, as for any write: a taken displayName is a conflict.
          expect(await store.createResource(cid, groupWrite(g('big'), g('g1'), list), capped)).toMatchObject({ reason: 'uniqueness' });
          expect(await store.createResource(cid, groupWrite(g('big'), 'Big', list), capped)).toEqual(refusal('u1'));
          expect(await store.getResource(cid, 'Group', g('big'))).toBeNull();
          expect(await store.getUsage(cid)).toEqual(usage);
          expect(await store.createResource(cid, groupWrite(g('big'), 'Big', range(0, 1500)), capped)).toMatchObject({ ok: true });
          expect(await store.replaceResource(cid, groupWrite(g('big'), 'Big', list), 1, capped)).toEqual(refusal('u1'));
          expect((await store.getResource(cid, 'Group', g('big'), { members: false }))?.memberCount).toBe(1500);
          expect(await groupsOf('u1')).toEqual([g('g1'), g('g2'), g('g3')]);
        });
      });

      it('lists maxResourcesPerValue holders of a non-unique value and counts the rest: lookups of it are refused until they leave', async () => {
        const capped = { ...roomy, maxResourcesPerValue: 2 };
        const crowded = (attribute: string) => expect.objectContaining({ name: 'CrowdedValueError', attribute });
        const login = (attribute: string, value: string) => store.findUsersForLogin(cid, attribute, value);
        expect(await store.createResource(cid, userWrite('u1', 'ann@a.example', { externalId: 'e', emails: ['x@y.example'] }), capped)).toMatchObject({
          ok: true,
        });
        expect(await store.createResource(cid, userWrite('u2', 'ann@b.example', { externalId: 'e' }), capped)).toMatchObject({ ok: true });
        expect(ids(await store.findByIndex(cid, 'User', 'externalId', 'e'))).toEqual(['u1', 'u2']);
        // A third holder is stored, not refused: the value is crowded (the userName's local part "ann" too).
        expect(await store.createResource(cid, userWrite('u3', 'ann@c.example', { externalId: 'e' }), capped)).toEqual({ ok: true, version: 1 });
        expect(await store.getResource(cid, 'User', 'u3')).toMatchObject({ id: 'u3' });
        await expect(store.findByIndex(cid, 'User', 'externalId', 'e')).rejects.toEqual(crowded('externalId'));
        await expect(store.findByIndex(cid, 'User', 'userNameLocal', 'ann')).rejects.toEqual(crowded('userNameLocal'));
        expect(await login('externalId', 'e')).toEqual({ users: [], deletedMatch: false, crowded: true });
        const batch = await store.findUsersForLoginBatch(cid, [
          { attribute: 'externalId', value: 'e' },
          { attribute: 'email', value: 'x@y.example' },
        ]);
        expect(batch.map((answer) => [ids(answer.users), answer.crowded ?? false])).toEqual([
          [[], true],
          [['u1'], false],
        ]);
        // Unique values are never crowded; other values of the crowded holders are read as ever.
        expect(ids(await store.findByIndex(cid, 'User', 'userName', 'ann@c.example'))).toEqual(['u3']);
        expect(ids(await store.findByIndex(cid, 'User', 'email', 'x@y.example'))).toEqual(['u1']);
        // A fourth holder and a replace that keeps the value change nothing of that.
        expect(await store.createResource(cid, userWrite('u4', 'dan@d.example', { externalId: 'e' }), capped)).toMatchObject({ ok: true });
        expect(await store.replaceResource(cid, userWrite('u1', 'ann@a.example', { externalId: 'e', emails: ['z@y.example'] }), 1, capped)).toMatchObject({
          ok: true,
        });
        await expect(store.findByIndex(cid, 'User', 'externalId', 'e')).rejects.toEqual(crowded('externalId'));
        // The holders it counts leaving, by a new value or a delete: then it is read again.
        expect(await store.replaceResource(cid, userWrite('u3', 'ann@c.example', { externalId: 'f' }), 1, capped)).toMatchObject({ ok: true });
        await expect(store.findByIndex(cid, 'User', 'externalId', 'e')).rejects.toEqual(crowded('externalId'));
        expect(await store.deleteResource(cid, 'User', 'u4')).toBe(true);
        expect(ids(await store.findByIndex(cid, 'User', 'externalId', 'e'))).toEqual(['u1', 'u2']);
        expect(ids((await login('externalId', 'e')).users)).toEqual(['u1', 'u2']);
        // "ann": u3 is counted, not listed; once it is gone too, u1 and u2.
        await expect(store.findByIndex(cid, 'User', 'userNameLocal', 'ann')).rejects.toEqual(crowded('userNameLocal'));
        expect(await store.deleteResource(cid, 'User', 'u3')).toBe(true);
        expect(ids(await store.findByIndex(cid, 'User', 'userNameLocal', 'ann'))).toEqual(['u1', 'u2']);
        // A listed holder leaving makes room: the next holder is listed.
        expect(await store.deleteResource(cid, 'User', 'u2')).toBe(true);
        expect(await store.createResource(cid, userWrite('u5', 'eve@e.example', { externalId: 'e' }), capped)).toMatchObject({ ok: true });
        expect(ids(await store.findByIndex(cid, 'User', 'externalId', 'e'))).toEqual(['u1', 'u5']);
        for (const id of ['u1', 'u5']) expect(await store.deleteResource(cid, 'User', id)).toBe(true);
        expect(await store.findByIndex(cid, 'User', 'externalId', 'e')).toEqual([]);
        expect(await login('externalId', 'e')).toMatchObject({ users: [], deletedMatch: true });
        // Without the key every holder is listed.
        for (const id of ['v1', 'v2', 'v3'])
          expect(await store.createResource(cid, userWrite(id, `${id}@v.example`, { externalId: 'g' }), roomy)).toMatchObject({ ok: true });
        expect(ids(await store.findByIndex(cid, 'User', 'externalId', 'g'))).toEqual(['v1', 'v2', 'v3']);
      });

      it('lists a counted holder again when a write changes its indexed values while there is room, on both stores alike', async () => {
        // Found by a review (2026-12-07): the Redis store re-entered every entry of such a write, the memory
        // store only the changed ones, so the two answered differently.
        const capped = { ...roomy, maxResourcesPerValue: 1 };
        expect(await store.createResource(cid, userWrite('a', 'a@x.example', { externalId: 'e' }), capped)).toMatchObject({ ok: true });
        expect(await store.createResource(cid, userWrite('b', 'b@x.example', { externalId: 'e' }), capped)).toMatchObject({ ok: true });
        expect(await store.deleteResource(cid, 'User', 'a')).toBe(true);
        // b alone holds it, counted: still crowded, and its tombstone is not read.
        await expect(store.findByIndex(cid, 'User', 'externalId', 'e')).rejects.toMatchObject({ name: 'CrowdedValueError' });
        expect(await store.findUsersForLogin(cid, 'externalId', 'e')).toEqual({ users: [], deletedMatch: false, crowded: true });
        // A write keeping its values changes nothing of that; one changing any of them lists b.
        expect(await store.replaceResource(cid, userWrite('b', 'b@x.example', { externalId: 'e', json: '{"v":2}' }), 1, capped)).toMatchObject({ ok: true });
        await expect(store.findByIndex(cid, 'User', 'externalId', 'e')).rejects.toMatchObject({ name: 'CrowdedValueError' });
        expect(await store.replaceResource(cid, userWrite('b', 'b@x.example', { externalId: 'e', emails: ['b@y.example'] }), 2, capped)).toMatchObject({
          ok: true,
        });
        expect(ids(await store.findByIndex(cid, 'User', 'externalId', 'e'))).toEqual(['b']);
      });

      it('refuses a login of a crowded value as ambiguous when it records it', async () => {
        const capped = { ...roomy, maxResourcesPerValue: 1 };
        for (const id of ['p1', 'p2'])
          expect(await store.createResource(cid, userWrite(id, `${id}@p.example`, { emails: ['shared@p.example'] }), capped)).toMatchObject({ ok: true });
        const attempt = {
          connectionId: cid,
          lookup: { attribute: 'email', value: 'shared@p.example' },
          inactiveWhenFalse: 'active',
          user: makeSsoUser('crowded-login', new Date(now()).toISOString()),
        };
        const { found, recorded } = await store.recordLogin(conn.customerId, attempt);
        expect(found).toEqual({ users: [], deletedMatch: false, crowded: true });
        expect(recorded).toEqual({ lastOutcome: 'refused', lastReason: 'ambiguous', lastScimUserId: null });
      });

      it('rejects malformed quotas', async () => {
        for (const quota of [
          { ...roomy, maxUsers: -1 },
          { ...roomy, maxBytes: 1.5 },
          { ...roomy, maxGroups: Number.NaN },
          { ...roomy, maxGroupsPerMember: -1 },
          { ...roomy, maxResourcesPerValue: 0.5 },
          { ...roomy, maxResourcesPerValue: 0 },
        ]) {
          await expect(store.createResource(cid, userWrite('u1', 'a'), quota)).rejects.toThrow(TypeError);
        }
        expect(await store.getResource(cid, 'User', 'u1')).toBeNull();
      });
    });

    describe('conditional delete', () => {
      it('deletes only when the expected version is current, and answers the current version otherwise', async () => {
        const id = await createUser('ann', { externalId: 'e1' });
        await store.replaceResource(cid, userWrite(id, 'ann', { externalId: 'e1', json: '{}' }), 1);
        expect(await store.deleteResource(cid, 'User', id, 1)).toEqual({ ok: false, reason: 'version_mismatch', currentVersion: 2 });
        expect(await store.getResource(cid, 'User', id)).toMatchObject({ version: 2 });
        expect((await store.findUsersForLogin(cid, 'externalId', 'e1')).deletedMatch).toBe(false);
        expect(await store.deleteResource(cid, 'User', id, 2)).toBe(true);
        expect(await store.deleteResource(cid, 'User', id, 2)).toBe(false);
        expect((await store.findUsersForLogin(cid, 'externalId', 'e1')).deletedMatch).toBe(true);
        await expect(store.deleteResource(cid, 'User', id, 1.5)).rejects.toThrow(TypeError);
      });

      it('lets exactly one of a replace and a delete expecting the same version win, every time', async () => {
        for (let round = 0; round < 10; round++) {
          const id = await createUser(`racer${round}`);
          const [replaced, removed] = await Promise.all([
            store.replaceResource(cid, userWrite(id, `racer${round}`, { json: '{"v":2}' }), 1),
            store.deleteResource(cid, 'User', id, 1),
          ]);
          const current = await store.getResource(cid, 'User', id);
          if (removed === true) {
            expect({ replaced, current }).toEqual({ replaced: { ok: false, reason: 'not_found' }, current: null });
          } else {
            expect({ replaced, removed, version: current?.version }).toEqual({
              replaced: { ok: true, version: 2, groups: [] },
              removed: { ok: false, reason: 'version_mismatch', currentVersion: 2 },
              version: 2,
            });
          }
        }
      });
    });

    describe('token ownership', () => {
      const rotate = (tokenHash: string, previous: string | null = null) => ({
        tokenHash,
        previousTokenHash: previous,
        previousTokenExpiresAt: previous === null ? null : clock.now + 60_000,
      });

      it('refuses a connection whose token is another connection’s, creating nothing', async () => {
        const thief = makeConnection({ tokenHash: conn.tokenHash });
        expect(await store.createConnection(thief)).toBe('token_in_use');
        expect(await store.getConnectionByCustomer(thief.customerId)).toBeNull();
        expect(await store.findConnectionByTokenHash(conn.tokenHash)).toEqual(conn);
        expect(await store.createResource(thief.connectionId, userWrite('u1', 'a'))).toEqual({ ok: false, reason: 'not_found' });
        expect(await store.listCustomers()).toEqual([conn.customerId]);
        // The same customer and connection id can be created with a token of its own.
        const fresh = { ...thief, tokenHash: hash('fresh') };
        expect(await store.createConnection(fresh)).toBe('created');
        expect(await store.findConnectionByTokenHash(hash('fresh'))).toEqual(fresh);
      });

      it('treats another connection’s previous token as taken until it expires', async () => {
        await store.updateConnectionTokens(cid, rotate(hash('second'), conn.tokenHash));
        const late = makeConnection({ tokenHash: conn.tokenHash });
        expect(await store.createConnection(late)).toBe('token_in_use');
        clock.now += 60_000;
        expect(await store.createConnection(late)).toBe('created');
        expect(await store.findConnectionByTokenHash(conn.tokenHash)).toEqual(late);
        expect(await store.findConnectionByTokenHash(hash('second'))).toMatchObject({ connectionId: cid });
      });

      it('creates one connection when two race for the same token', async () => {
        const token = hash('contested');
        const racers = Array.from({ length: 6 }, () => makeConnection({ tokenHash: token }));
        const results = await Promise.all(racers.map((c) => store.createConnection(c)));
        expect(results.filter((r) => r === 'created')).toHaveLength(1);
        expect(results.filter((r) => r === 'token_in_use')).toHaveLength(5);
        const winner = racers[results.indexOf('created')]!;
        expect(await store.findConnectionByTokenHash(token)).toEqual(winner);
      });

      it('refuses a rotation to another connection’s token and changes nothing', async () => {
        const other = makeConnection();
        await store.createConnection(other);
        expect(await store.updateConnectionTokens(cid, rotate(other.tokenHash))).toEqual({ ok: false, reason: 'token_in_use' });
        expect(await store.updateConnectionTokens(cid, rotate(hash('x'), other.tokenHash))).toEqual({ ok: false, reason: 'token_in_use' });
        expect(await store.getConnectionByCustomer(conn.customerId)).toEqual(conn);
        expect(await store.findConnectionByTokenHash(conn.tokenHash)).toEqual(conn);
        expect(await store.findConnectionByTokenHash(other.tokenHash)).toEqual(other);
        expect(await store.findConnectionByTokenHash(hash('x'))).toBeNull();
        // Rotating to its own current token (e.g. re-installing a BYO token) is fine.
        expect(await store.updateConnectionTokens(cid, rotate(conn.tokenHash))).toEqual({ ok: true, connection: conn });
      });

      it('rotates only from the expected current token', async () => {
        expect(await store.updateConnectionTokens(cid, rotate(hash('b')), hash('not-current'))).toEqual({ ok: false, reason: 'token_changed' });
        expect(await store.findConnectionByTokenHash(hash('b'))).toBeNull();
        expect(await store.updateConnectionTokens(cid, rotate(hash('b')), conn.tokenHash)).toMatchObject({ ok: true });
        expect(await store.updateConnectionTokens('conn-unknown', rotate(hash('c')), conn.tokenHash)).toEqual({ ok: false, reason: 'not_found' });
      });

      it('lets exactly one of concurrent rotations from the same token win; only its token and the kept previous work', async () => {
        let current = conn.tokenHash;
        for (let round = 0; round < 5; round++) {
          const attempted = Array.from({ length: 6 }, (_, i) => hash(`r${round}-${i}`));
          const results = await Promise.all(attempted.map((h) => store.updateConnectionTokens(cid, rotate(h, current), current)));
          expect(results.filter((r) => r.ok)).toHaveLength(1);
          expect(results.filter((r) => !r.ok)).toEqual(Array.from({ length: 5 }, () => ({ ok: false, reason: 'token_changed' })));
          const winner = attempted[results.findIndex((r) => r.ok)]!;
          const working: string[] = [];
          for (const h of [...attempted, current]) if (await store.findConnectionByTokenHash(h)) working.push(h);
          expect(working.sort()).toEqual([winner, current].sort());
          current = winner;
        }
      });
    });

    describe('concurrency', () => {
      it('lets exactly one of 50 concurrent creates with the same unique userName succeed', async () => {
        const results = await Promise.all(Array.from({ length: 50 }, (_, i) => store.createResource(cid, userWrite(`u${i}`, 'Same@Example.com'))));
        expect(results.filter((r) => r.ok)).toHaveLength(1);
        expect(results.filter((r) => !r.ok && r.reason === 'uniqueness')).toHaveLength(49);
        expect((await store.listPage(cid, 'User', 0, 100)).total).toBe(1);
        expect(await store.findByIndex(cid, 'User', 'userName', 'same@example.com')).toHaveLength(1);
      });

      it('lets exactly one of 20 concurrent replaces with the same expected version succeed', async () => {
        const id = await createUser('ann');
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) => store.replaceResource(cid, userWrite(id, 'ann', { json: `{"writer":${i}}` }), 1)),
        );
        expect(results.filter((r) => r.ok)).toEqual([{ ok: true, version: 2, groups: [] }]);
        expect(results.filter((r) => !r.ok)).toEqual(Array.from({ length: 19 }, () => ({ ok: false, reason: 'version_mismatch', currentVersion: 2 })));
        const winner = results.findIndex((r) => r.ok);
        expect(await store.getResource(cid, 'User', id)).toMatchObject({ version: 2, json: `{"writer":${winner}}` });
      });
    });
  });
}
