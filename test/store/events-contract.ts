/**
 * The event log part of the store contract (src/store/event-log.ts, docs/events.md), run by storeContract
 * for every store: the memory store, Redis and the Redis Cluster.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EVENT_READ_BYTES, EventsExpiredError, type StoredEvent, type WriteEvents } from '../../src/store/event-log.js';
import type { ResourceWrite, Store, StoredConnection } from '../../src/store/store.js';
import { groupWrite, makeConnection, userWrite, type MakeStore } from './contract.js';

const MEMBERS: WriteEvents['members'] = { added: 'group.member_added', removed: 'group.member_removed' };
const own = (type: string, changed: string[] = []): WriteEvents => ({ resource: { type, changed } });
const withEvents = (write: ResourceWrite, events: WriteEvents): ResourceWrite => ({ ...write, events });
const groupEvents = (type: string | null, changed: string[] = []): WriteEvents => ({ resource: type ? { type, changed } : null, members: MEMBERS });

/** An event without its position, for comparing what was logged. */
const what = (e: StoredEvent) => (e.member === undefined ? [e.type, e.id, e.changed] : [e.type, e.id, e.member]);

export function eventLogContract(name: string, makeStore: MakeStore): void {
  describe(`${name} store contract: the event log`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    let conn: StoredConnection;
    let cid: string;
    const clock = { now: Date.now() };
    const now = () => clock.now;
    const DAY = 24 * 60 * 60 * 1000;

    const setUp = async (options: { eventRetentionMs?: number; maxEventWrites?: number; maxEventBytes?: number } = {}) => {
      ({ store, cleanup } = await makeStore({ now, ...options }));
      conn = makeConnection();
      cid = conn.connectionId;
      expect(await store.createConnection(conn)).toBe('created');
    };
    beforeEach(async () => {
      clock.now = Date.now();
      await setUp();
    });
    afterEach(async () => {
      await store.close?.();
      await cleanup();
    });

    /** Every event after `after`, read in pages of `limit`. */
    async function readAll(after: string | null = null, limit = 1000): Promise<StoredEvent[]> {
      const out: StoredEvent[] = [];
      for (let cursor = after; ;) {
        const page = await store.readEvents(cid, cursor, limit);
        out.push(...page.events);
        if (page.events.length === 0) return out;
        cursor = page.next;
      }
    }

    it('ends a Redis event page after the entry whose resource JSON passes EVENT_READ_BYTES; reading on from next loses nothing', async () => {
      const ids = Array.from({ length: 5 }, () => randomUUID());
      const note = 'x'.repeat(EVENT_READ_BYTES * 0.4);
      for (const id of ids) await store.createResource(cid, withEvents(userWrite(id, id, { json: JSON.stringify({ id, note }) }), own('user.created')));
      const first = await store.readEvents(cid, null, 1000);
      // 0.4 + 0.4 + 0.4 of the budget: the third entry passes it and ends the page (the memory store has no copy to bound).
      expect(first.events.length).toBe(name === 'memory' ? 5 : 3);
      const all = await readAll();
      expect(all.map((e) => e.id)).toEqual(ids);
      expect(all.every((e) => e.json !== null && e.json.includes(note))).toBe(true);
    });

    it('holds a Redis event page of many entries to EVENT_READ_BYTES as a whole, however many scripts read it', async () => {
      const ids = Array.from({ length: 600 }, () => randomUUID());
      const note = 'x'.repeat(Math.floor(EVENT_READ_BYTES / 400));
      for (const id of ids) await store.createResource(cid, withEvents(userWrite(id, id, { json: JSON.stringify({ id, note }) }), own('user.created')));
      const first = await store.readEvents(cid, null, 1000);
      const bytes = first.events.reduce((sum, e) => sum + (e.json?.length ?? 0), 0);
      if (name !== 'memory') expect(bytes).toBeLessThanOrEqual(EVENT_READ_BYTES + note.length + 100);
      if (name === 'memory') expect(first.events).toHaveLength(600);
      else expect(first.events.length).toBeLessThan(600);
      expect((await readAll()).map((e) => e.id)).toEqual(ids);
    });

    it("reads every event of a customer's new connection after a cursor kept from its deleted one (no silent gap)", async () => {
      for (const id of ['u1', 'u2', 'u3', 'u4', 'u5']) await store.createResource(cid, withEvents(userWrite(id, id), own('user.created', ['userName'])));
      const kept = (await readAll()).at(-1)!;
      expect(kept.seq).toBe(5);
      expect(await store.deleteConnection(cid)).toBe(true);
      clock.now += 1000;
      conn = makeConnection();
      cid = conn.connectionId;
      expect(await store.createConnection(conn)).toBe('created');
      for (const id of ['n1', 'n2', 'n3']) await store.createResource(cid, withEvents(userWrite(id, id), own('user.created', ['userName'])));
      // Its seqs start again at 1, below the kept cursor's 5: still read, as coming after it in time.
      expect((await readAll(kept.cursor)).map((e) => [e.id, e.seq])).toEqual([
        ['n1', 1],
        ['n2', 2],
        ['n3', 3],
      ]);
      expect((await readAll(kept.cursor, 1)).map((e) => e.id)).toEqual(['n1', 'n2', 'n3']);
    });

    it("tells a cursor kept from a customer's deleted connection to resync once the new connection's log dropped its first writes", async () => {
      await cleanup();
      await setUp({ maxEventWrites: 3 });
      // The old log's cursor is past seq 5; the new log keeps only its seqs 4 to 6 of 6.
      for (const id of ['u1', 'u2', 'u3', 'u4', 'u5']) await store.createResource(cid, withEvents(userWrite(id, id), own('user.created', ['userName'])));
      const kept = (await store.lastEventCursor(cid))!;
      expect(await store.deleteConnection(cid)).toBe(true);
      clock.now += 1000;
      conn = makeConnection();
      cid = conn.connectionId;
      expect(await store.createConnection(conn)).toBe('created');
      for (const id of ['n1', 'n2', 'n3', 'n4', 'n5', 'n6']) await store.createResource(cid, withEvents(userWrite(id, id), own('user.created', ['userName'])));
      expect((await readAll()).map((e) => e.seq)).toEqual([4, 5, 6]);
      // Compared with the new log's seqs, its 5 would hide the trim of n1 to n3: a silent gap.
      await expect(store.readEvents(cid, kept, 10)).rejects.toBeInstanceOf(EventsExpiredError);
    });

    it('logs each write with its events, in order, with the resource after it and cursors to read on from', async () => {
      const ann = userWrite('u1', 'ann', { json: '{"userName":"ann"}' });
      expect(await store.createResource(cid, withEvents(ann, own('user.created', ['userName'])))).toEqual({ ok: true, version: 1 });
      const renamed = userWrite('u1', 'ann', { json: '{"userName":"ann","nickName":"A"}' });
      expect(await store.replaceResource(cid, withEvents(renamed, own('user.updated', ['nickName'])), 1)).toEqual({ ok: true, version: 2, groups: [] });
      expect(await store.createResource(cid, userWrite('u2', 'bob'))).toEqual({ ok: true, version: 1 }); // no events asked
      expect(await store.deleteResource(cid, 'User', 'u1', undefined, own('user.deleted'))).toBe(true);

      const events = await readAll();
      expect(events.map((e) => [e.type, e.kind, e.id, e.json, e.changed])).toEqual([
        ['user.created', 'User', 'u1', '{"userName":"ann"}', ['userName']],
        ['user.updated', 'User', 'u1', '{"userName":"ann","nickName":"A"}', ['nickName']],
        ['user.deleted', 'User', 'u1', null, []],
      ]);
      expect(events.map((e) => e.seq)).toEqual([1, 2, 3]);
      expect(events.every((e, i) => i === 0 || e.at >= events[i - 1]!.at)).toBe(true);
      expect(await store.lastEventCursor(cid)).toBe(events[2]!.cursor);
      // Reading after a cursor returns what follows it, one event at a time too.
      expect((await readAll(events[0]!.cursor)).map((e) => e.type)).toEqual(['user.updated', 'user.deleted']);
      expect((await readAll(null, 1)).map((e) => e.cursor)).toEqual(events.map((e) => e.cursor));
      const end = await store.readEvents(cid, events[2]!.cursor, 10);
      expect(end).toEqual({ events: [], next: events[2]!.cursor });
    });

    it("keeps each event's resource as its write left it, through later writes, a cascade, a sort backfill and the deletion", async () => {
      const ann = { id: 'u1', userName: 'ann', title: 'a' };
      const user = (json: object) => userWrite('u1', 'ann', { json: JSON.stringify(json) });
      const created: WriteEvents = { resource: { type: 'user.created', changed: 'all' } };
      await store.createResource(cid, withEvents(user(ann), created));
      // A write that logs nothing, then one that logs its event.
      await store.replaceResource(cid, user({ ...ann, title: 'b' }), 1);
      await store.replaceResource(cid, withEvents(user({ ...ann, title: 'c' }), own('user.updated', ['title'])), 2);
      const g = { id: 'g1', displayName: 'G', meta: { lastModified: '2026-01-01T00:00:00.000Z' } };
      const group = { ...groupWrite('g1', 'G', [{ value: 'u1' }]), json: JSON.stringify(g) };
      await store.createResource(cid, withEvents(group, { resource: { type: 'group.created', changed: 'all' }, members: MEMBERS }));
      // Sort entries filled in for what was stored before the first sort (Redis rewrites those rows with the
      // same JSON; the memory store indexes them itself and returns none).
      for (const kind of ['User', 'Group'] as const) {
        const backlog = await store.sortBacklog(cid, kind, 10);
        const fills = backlog.resources.map((r) => ({ id: r.id, version: r.version, sortKeys: [{ attribute: 'externalId', value: null }] }));
        expect(await store.fillSortIndex(cid, kind, backlog.through, fills)).toBe('done');
      }
      // Deleting the user gives the group a new lastModified, a cascade that logs nothing.
      expect(await store.deleteResource(cid, 'User', 'u1', undefined, own('user.deleted'))).toBe(true);
      expect(JSON.parse((await store.getResource(cid, 'Group', 'g1'))!.json).meta.lastModified).not.toBe(g.meta.lastModified);

      const events = await readAll();
      expect(events.map((e) => [e.type, e.id, e.json, e.changed])).toEqual([
        ['user.created', 'u1', JSON.stringify(ann), ['userName', 'title']],
        ['user.updated', 'u1', JSON.stringify({ ...ann, title: 'c' }), ['title']],
        ['group.created', 'g1', JSON.stringify(g), ['displayName']],
        ['group.member_added', 'g1', JSON.stringify(g), []],
        ['user.deleted', 'u1', null, []],
      ]);
      // And the same again, read from each cursor (a read that starts inside the log).
      for (let i = 0; i < events.length - 1; i++) expect((await readAll(events[i]!.cursor))[0]).toEqual(events[i + 1]);
    });

    it('appends nothing for a write that fails: uniqueness, version mismatch, quota, not found, conditional delete', async () => {
      await store.createResource(cid, withEvents(userWrite('u1', 'ann'), own('user.created')));
      const before = await store.lastEventCursor(cid);
      const quota = { maxUsers: 1, maxGroups: 0, maxBytes: 1_000_000 };
      expect(await store.createResource(cid, withEvents(userWrite('u2', 'ann'), own('user.created')))).toMatchObject({ reason: 'uniqueness' });
      expect(await store.createResource(cid, withEvents(userWrite('u1', 'other'), own('user.created')))).toMatchObject({ reason: 'uniqueness' });
      expect(await store.replaceResource(cid, withEvents(userWrite('u1', 'ann'), own('user.updated', ['x'])), 7)).toMatchObject({ reason: 'version_mismatch' });
      expect(await store.createResource(cid, withEvents(userWrite('u3', 'cy'), own('user.created')), quota)).toMatchObject({ reason: 'quota' });
      expect(await store.createResource(cid, withEvents(groupWrite('g1', 'G', [{ value: 'u1' }]), groupEvents('group.created')), quota)).toMatchObject({
        reason: 'quota',
      });
      expect(await store.replaceResource(cid, withEvents(userWrite('nope', 'x'), own('user.updated', ['x'])), 1)).toMatchObject({ reason: 'not_found' });
      expect(await store.deleteResource(cid, 'User', 'u1', 5, own('user.deleted'))).toMatchObject({ reason: 'version_mismatch' });
      expect(await store.deleteResource(cid, 'User', 'nope', undefined, own('user.deleted'))).toBe(false);
      expect(await store.lastEventCursor(cid)).toBe(before);
      expect((await readAll()).map((e) => e.type)).toEqual(['user.created']);
    });

    it('logs one event per member actually removed, then per member actually added', async () => {
      const created = withEvents(groupWrite('g1', 'G', [{ value: 'a' }, { value: 'b' }, { value: 'c' }]), groupEvents('group.created', ['displayName']));
      await store.createResource(cid, created);
      // Changes: removing a non-member and adding a member change nothing; removing then adding moves `b`.
      const changes = {
        ...groupWrite('g1', 'G'),
        members: undefined,
        memberChanges: { remove: ['x', 'b', 'a'], add: [{ value: 'c' }, { value: 'b' }, { value: 'd' }] },
      };
      expect(await store.replaceResource(cid, withEvents(changes, groupEvents(null)), 1)).toEqual({ ok: true, version: 2 });
      // A full list: c stays, b and d leave, e joins.
      await store.replaceResource(cid, withEvents(groupWrite('g1', 'G2', [{ value: 'e' }, { value: 'c' }]), groupEvents('group.updated', ['displayName'])), 2);
      // A write that changes nothing of the members logs only its own event.
      await store.replaceResource(cid, withEvents(groupWrite('g1', 'G3', [{ value: 'e' }, { value: 'c' }]), groupEvents('group.updated', ['displayName'])), 3);
      await store.deleteResource(cid, 'Group', 'g1', undefined, own('group.deleted'));

      const events = await readAll();
      expect(events.map(what)).toEqual([
        ['group.created', 'g1', ['displayName']],
        ['group.member_added', 'g1', 'a'],
        ['group.member_added', 'g1', 'b'],
        ['group.member_added', 'g1', 'c'],
        ['group.member_removed', 'g1', 'b'],
        ['group.member_removed', 'g1', 'a'],
        ['group.member_added', 'g1', 'b'],
        ['group.member_added', 'g1', 'd'],
        ['group.updated', 'g1', ['displayName']],
        ['group.member_removed', 'g1', 'b'],
        ['group.member_removed', 'g1', 'd'],
        ['group.member_added', 'g1', 'e'],
        ['group.updated', 'g1', ['displayName']],
        ['group.deleted', 'g1', []],
      ]);
      // Member events carry the group after the write, and their write's sequence number and index.
      expect(events[1]).toMatchObject({ json: JSON.stringify({ id: 'g1', displayName: 'G' }), seq: 1, index: 1, changed: [] });
      expect(events[4]).toMatchObject({ seq: 2, index: 0 });
      expect(events.map((e) => e.seq)).toEqual([1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 5]);
    });

    it('logs a long member list change once, and reads its member events in pages from any cursor', async () => {
      const values = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => ({ value: `m${from + i}` }));
      await store.createResource(cid, withEvents(groupWrite('big', 'Big', values(0, 3000)), groupEvents('group.created', ['displayName'])));
      await store.replaceResource(cid, withEvents(groupWrite('big', 'Big', values(1500, 4500)), groupEvents(null)), 1);
      const created = await readAll(null, 700);
      expect(created).toHaveLength(1 + 3000 + 1500 + 1500);
      expect(created[0]).toMatchObject({ type: 'group.created', index: 0 });
      expect(created.slice(1, 3001).map((e) => e.member)).toEqual(values(0, 3000).map((m) => m.value));
      expect(created.slice(3001, 4501).map((e) => [e.type, e.member])).toEqual(values(0, 1500).map((m) => ['group.member_removed', m.value]));
      expect(created.slice(4501).map((e) => [e.type, e.member])).toEqual(values(3000, 4500).map((m) => ['group.member_added', m.value]));
      expect(new Set(created.map((e) => e.cursor)).size).toBe(created.length);
      // From a cursor inside a write, reading goes on with that write's next event.
      expect((await readAll(created[2999]!.cursor, 1000)).map((e) => e.cursor)).toEqual(created.slice(3000).map((e) => e.cursor));
    });

    it('logs every member a change list longer than one chunk removes and adds, one removed and added back included', async () => {
      const values = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => ({ value: `m${from + i}` }));
      await store.createResource(cid, groupWrite('big', 'Big', values(0, 1500)));
      // 2,300 changes: 1,200 removals, then 1,100 additions of which 100 are members the removals took out.
      const changes = { remove: values(0, 1200).map((m) => m.value), add: [...values(0, 100), ...values(5000, 6000)] };
      const changed = await store.replaceResource(
        cid,
        withEvents({ ...groupWrite('big', 'Bigger'), members: undefined, memberChanges: changes }, groupEvents('group.updated', ['displayName'])),
        1,
      );
      expect(changed).toMatchObject({ ok: true });
      const events = await readAll(null, 700);
      expect(events.map((e) => e.type)).toEqual([
        'group.updated',
        ...Array<string>(1200).fill('group.member_removed'),
        ...Array<string>(1100).fill('group.member_added'),
      ]);
      expect(events.slice(1, 1201).map((e) => e.member)).toEqual(changes.remove);
      expect(events.slice(1201).map((e) => e.member)).toEqual(changes.add.map((m) => m.value));
      // The members re-added moved to the end, as in a single write (removals first, then additions).
      const members = (await store.getResource(cid, 'Group', 'big'))?.members?.map((m) => m.value);
      expect(members).toEqual([...values(1200, 1500), ...changes.add].map((m) => m.value));
    });

    it('drops events past the retention, and a cursor older than what is kept gets EventsExpiredError', async () => {
      await store.createResource(cid, withEvents(userWrite('u1', 'ann'), own('user.created')));
      const first = (await readAll())[0]!.cursor;
      clock.now += 2 * DAY;
      await store.replaceResource(cid, withEvents(userWrite('u1', 'ann', { json: '{"a":1}' }), own('user.updated', ['a'])), 1);
      // Within the retention (7 days by default), nothing is lost.
      expect((await readAll(first)).map((e) => e.type)).toEqual(['user.updated']);
      clock.now += 6 * DAY;
      await store.replaceResource(cid, withEvents(userWrite('u1', 'ann', { json: '{"a":2}' }), own('user.updated', ['a'])), 2);
      // The first write is past the retention and was dropped: its cursor still reads on (nothing after it
      // was dropped), but a cursor before it is expired, and reading from the start begins after the gap.
      expect((await readAll()).map((e) => e.seq)).toEqual([2, 3]);
      expect((await readAll(first)).map((e) => e.seq)).toEqual([2, 3]);
      await expect(store.readEvents(cid, '0-0', 10)).rejects.toBeInstanceOf(EventsExpiredError);
      await expect(store.readEvents(cid, '0-0', 10)).rejects.toMatchObject({ code: 'events_expired' });
      // Past the retention of the second write too: the first write's cursor now misses it.
      clock.now += 3 * DAY;
      await store.deleteResource(cid, 'User', 'u1', undefined, own('user.deleted'));
      await expect(store.readEvents(cid, first, 10)).rejects.toBeInstanceOf(EventsExpiredError);
    });

    it('keeps what creations log whatever its size, and the versions later writes replaced within maxEventBytes', async () => {
      const cap = 20_000;
      await setUp({ maxEventBytes: cap });
      const note = 'x'.repeat(3000);
      const ids = Array.from({ length: 20 }, () => randomUUID());
      // Creations: each entry shares its user's JSON, which costs the log nothing.
      for (const id of ids) await store.createResource(cid, withEvents(userWrite(id, id, { json: JSON.stringify({ id, note }) }), own('user.created')));
      const created = await readAll();
      expect(created).toHaveLength(20);
      // Updates of one user: each leaves the version it replaced to the entry that logged it.
      const version = (v: number) => JSON.stringify({ id: ids[0], note, v });
      for (let v = 1; v <= 20; v++) {
        await store.replaceResource(cid, withEvents(userWrite(ids[0]!, ids[0]!, { json: version(v) }), own('user.updated', ['v'])), v);
      }
      // The newest versions whose copies fit in the cap are kept (the oldest writes went first), and the
      // newest entry, which shares the stored JSON.
      let copies = 0;
      let expected = 1;
      for (let v = 19; v >= 1 && (copies += ids[0]!.length + 1 + version(v).length) <= cap; v--) expected++;
      const kept = await readAll();
      expect(kept.map((e) => e.type)).toEqual(Array<string>(expected).fill('user.updated'));
      expect(kept.map((e) => e.json)).toEqual(Array.from({ length: expected }, (_, i) => version(21 - expected + i)));
      await expect(store.readEvents(cid, created[0]!.cursor, 10)).rejects.toBeInstanceOf(EventsExpiredError);
    });

    it('drops no more writes for maxEventBytes than it needs, counting UTF-8 bytes, when the count bound dropped some first', async () => {
      // Found by a review (2026-12-05): on Redis, the copy of an entry the count bound dropped stayed counted
      // until copies made before it went, and the byte bound dropped a kept write for it; and the memory
      // store counted UTF-16 units where Redis counts bytes.
      const user = (id: string, n: number) => userWrite(id, id, { json: JSON.stringify({ id, note: 'é'.repeat(500), n }) });
      const size = (id: string, n: number) => Buffer.byteLength(`${id} ${user(id, n).json}`);
      await setUp({ maxEventWrites: 3, maxEventBytes: size('a', 0) + size('b', 0) - 1 });
      await store.createResource(cid, withEvents(user('a', 0), own('user.created')));
      await store.createResource(cid, withEvents(user('b', 0), own('user.created')));
      // b's creation now holds its first version (about 1 KB in UTF-8): under the bound.
      await store.replaceResource(cid, withEvents(user('b', 1), own('user.updated', ['n'])), 1);
      // a's creation would hold its first version too, but the count bound drops it (4 writes, 3 kept): the
      // copies kept are b's alone, still under the bound, so nothing more goes.
      await store.replaceResource(cid, withEvents(user('a', 1), own('user.updated', ['n'])), 1);
      expect((await readAll()).map((e) => [e.type, e.id])).toEqual([
        ['user.created', 'b'],
        ['user.updated', 'b'],
        ['user.updated', 'a'],
      ]);
      // One more version of b: the count bound drops b's creation with its copy; b's first update now holds
      // the version it logged, the one copy kept, under the bound.
      await store.replaceResource(cid, withEvents(user('b', 2), own('user.updated', ['n'])), 2);
      expect((await readAll()).map((e) => [e.type, e.id])).toEqual([
        ['user.updated', 'b'],
        ['user.updated', 'a'],
        ['user.updated', 'b'],
      ]);
    });

    it('keeps at most maxEventWrites writes, dropping the oldest with their member lists', async () => {
      await cleanup();
      await setUp({ maxEventWrites: 3 });
      const values = (n: number, tag: string) => Array.from({ length: n }, (_, i) => ({ value: `${tag}${i}` }));
      await store.createResource(cid, withEvents(groupWrite('g', 'G', values(1500, 'a')), groupEvents('group.created')));
      const cursors: string[] = [(await store.lastEventCursor(cid))!];
      for (let i = 0; i < 4; i++) {
        await store.replaceResource(cid, withEvents(groupWrite('g', 'G', values(1500, `v${i}-`)), groupEvents(null)), i + 1);
        cursors.push((await store.lastEventCursor(cid))!);
      }
      const kept = await readAll();
      expect([...new Set(kept.map((e) => e.seq))]).toEqual([3, 4, 5]);
      expect(kept).toHaveLength(3 * 3000);
      await expect(store.readEvents(cid, cursors[0]!, 10)).rejects.toBeInstanceOf(EventsExpiredError);
      expect((await store.readEvents(cid, cursors[1]!, 1)).events[0]).toMatchObject({ seq: 3, index: 0 });
    });

    it('counts the member values and changed names entries list against maxEventBytes, not only copies', async () => {
      // Found by an audit (2026-12-06): adding and removing 250 long values write after write grew the log
      // by 257 KB a write, counted nowhere, while the group (and the quota) stayed the same size.
      await cleanup();
      await setUp({ maxEventBytes: 60_000 });
      const long = (i: number) => ({ value: `m${i}-${'x'.repeat(196)}` });
      const values = Array.from({ length: 200 }, (_, i) => long(i)); // about 40 KB an entry
      await store.createResource(cid, withEvents(groupWrite('g', 'G'), groupEvents('group.created')));
      const first = (await store.lastEventCursor(cid))!;
      let version = 1;
      for (let round = 0; round < 6; round++) {
        const add = { ...groupWrite('g', 'G'), members: undefined, memberChanges: { add: values, remove: [] } };
        await store.replaceResource(cid, withEvents(add, groupEvents(null)), version++);
        const remove = { ...groupWrite('g', 'G'), members: undefined, memberChanges: { add: [], remove: values.map((v) => v.value) } };
        await store.replaceResource(cid, withEvents(remove, groupEvents(null)), version++);
      }
      // Two such entries pass the bound: only the newest write is kept.
      const kept = await readAll();
      expect(kept).toHaveLength(200);
      expect(new Set(kept.map((e) => e.type))).toEqual(new Set(['group.member_removed']));
      await expect(store.readEvents(cid, first, 10)).rejects.toBeInstanceOf(EventsExpiredError);

      // Entries that list little of their own (COUNTED_ENTRY_BYTES) are not counted: a bound of 1 byte keeps them.
      await cleanup();
      await setUp({ maxEventBytes: 1 });
      await store.createResource(cid, withEvents(userWrite('u1', 'ann'), own('user.created')));
      for (let v = 1; v <= 30; v++)
        await store.replaceResource(cid, withEvents(userWrite('u1', 'ann', { json: JSON.stringify({ id: 'u1', v }) }), own('user.updated', ['active'])), v);
      // Each update leaves the version it replaced to its entry: those copies are what the bound drops.
      expect((await readAll()).map((e) => e.type)).toEqual(['user.updated']);
    });

    it('keeps maxEventBytes right after a retention trim drops many entries at once', async () => {
      // Found by a review (2026-12-06): on Redis the side data of dropped entries was freed 64 seqs a write,
      // and the byte bound waited for it: after 3,000 small entries expired, 40 KB member lists piled up.
      await cleanup();
      await setUp({ maxEventBytes: 50_000, eventRetentionMs: DAY });
      await store.createResource(cid, withEvents(groupWrite('g', 'G'), groupEvents('group.created')));
      for (let i = 0; i < 1500; i++) await store.createResource(cid, withEvents(userWrite(`u${i}`, `u${i}`), own('user.created')));
      clock.now += 2 * DAY;
      const values = Array.from({ length: 200 }, (_, i) => ({ value: `m${i}-${'x'.repeat(196)}` })); // about 40 KB a write
      let version = 1;
      for (let w = 0; w < 6; w++) {
        const changes = w % 2 === 0 ? { add: values, remove: [] } : { add: [], remove: values.map((v) => v.value) };
        await store.replaceResource(cid, withEvents({ ...groupWrite('g', 'G'), members: undefined, memberChanges: changes }, groupEvents(null)), version++);
        // Two such writes pass the bound: the newest alone is kept, from the first write after the trim on.
        expect(await readAll(), `write ${w}`).toHaveLength(200);
      }
    }, 60_000);

    it('counts the member lists of long list replacements against maxEventBytes (staged on Redis)', async () => {
      await cleanup();
      await setUp({ maxEventBytes: 150_000 });
      const values = (tag: string) => Array.from({ length: 1000 }, (_, i) => ({ value: `${tag}${i}-${'y'.repeat(94)}` })); // 100 KB a list
      await store.createResource(cid, withEvents(groupWrite('g', 'G', values('a')), groupEvents('group.created')));
      const first = (await store.lastEventCursor(cid))!;
      for (let i = 0; i < 4; i++) await store.replaceResource(cid, withEvents(groupWrite('g', 'G', values(`v${i}-`)), groupEvents(null)), i + 1);
      // A replacement lists 1,000 values removed and 1,000 added (200 KB): only the newest is kept.
      const kept = await readAll();
      expect(kept).toHaveLength(2000);
      expect(kept.filter((e) => e.type === 'group.member_added').every((e) => e.member!.startsWith('v3-'))).toBe(true);
      await expect(store.readEvents(cid, first, 10)).rejects.toBeInstanceOf(EventsExpiredError);
    });

    it('deletes the events with the connection; an unknown connection has an empty log', async () => {
      await store.createResource(cid, withEvents(userWrite('u1', 'ann'), own('user.created')));
      expect(await store.deleteConnection(cid)).toBe(true);
      expect(await store.readEvents(cid, null, 10)).toEqual({ events: [], next: null });
      expect(await store.lastEventCursor(cid)).toBeNull();
      expect(await store.readEvents(`conn-${randomUUID()}`, null, 10)).toEqual({ events: [], next: null });
    });

    it('leases a connection log to one owner per group at a time, until it expires or is released', async () => {
      const group = 'billing';
      expect(await store.claimEventLease(group, cid, 'owner-a', 1000)).toEqual({ customerId: conn.customerId, cursor: null });
      expect(await store.claimEventLease(group, cid, 'owner-b', 1000)).toBeNull();
      // Another group is independent; the holder renews.
      expect(await store.claimEventLease('audit', cid, 'owner-b', 1000)).toEqual({ customerId: conn.customerId, cursor: null });
      expect(await store.commitEventCursor(group, cid, 'owner-a', 1000, '5-1')).toBe(true);
      expect(await store.commitEventCursor(group, cid, 'owner-b', 1000, '9-9')).toBe(false);
      // A lease that ran out (the visibility timeout) goes to the next claimer, with the committed cursor.
      clock.now += 1001;
      expect(await store.claimEventLease(group, cid, 'owner-b', 1000)).toEqual({ customerId: conn.customerId, cursor: '5-1' });
      expect(await store.commitEventCursor(group, cid, 'owner-a', 1000, '6-2')).toBe(false);
      expect(await store.commitEventCursor(group, cid, 'owner-b', 1000)).toBe(true); // renews, keeps the cursor
      await store.releaseEventLease(group, cid, 'owner-a'); // not its lease: nothing happens
      expect(await store.claimEventLease(group, cid, 'owner-a', 1000)).toBeNull();
      await store.releaseEventLease(group, cid, 'owner-b');
      expect(await store.claimEventLease(group, cid, 'owner-a', 1000)).toEqual({ customerId: conn.customerId, cursor: '5-1' });
      expect(await store.claimEventLease(group, `conn-${randomUUID()}`, 'owner-a', 1000)).toBeNull();
      // The connection's deletion takes its cursors and leases.
      await store.deleteConnection(cid);
      expect(await store.claimEventLease(group, cid, 'owner-a', 1000)).toBeNull();
      expect(await store.commitEventCursor(group, cid, 'owner-a', 1000, '7-3')).toBe(false);
    });

    it('names the connections written to since a time, and forgets deleted ones', async () => {
      const since = clock.now;
      const other = makeConnection();
      await store.createConnection(other);
      await store.createResource(cid, withEvents(userWrite('u1', 'ann'), own('user.created')));
      await store.createResource(other.connectionId, userWrite('u1', 'ann')); // logs nothing
      expect(await store.activeEventConnections(since)).toEqual({ now: clock.now, connections: [{ connectionId: cid, at: clock.now }] });
      expect(await store.activeEventConnections(since + 1)).toEqual({ now: clock.now, connections: [] });
      await store.deleteConnection(cid);
      expect(await store.activeEventConnections(since)).toEqual({ now: clock.now, connections: [] });
    });

    it('keeps dead letters per group until removed', async () => {
      await store.addDeadLetter('billing', { id: 'a', json: '{"x":1}' });
      await store.addDeadLetter('billing', { id: 'b', json: '{"x":2}' });
      await store.addDeadLetter('audit', { id: 'a', json: '{"y":1}' });
      const byId = (l: { id: string }[]) => [...l].sort((x, y) => x.id.localeCompare(y.id));
      expect(byId(await store.listDeadLetters('billing'))).toEqual([
        { id: 'a', json: '{"x":1}' },
        { id: 'b', json: '{"x":2}' },
      ]);
      expect(await store.removeDeadLetter('billing', 'a')).toBe(true);
      expect(await store.removeDeadLetter('billing', 'a')).toBe(false);
      expect(await store.listDeadLetters('billing')).toEqual([{ id: 'b', json: '{"x":2}' }]);
      expect(await store.listDeadLetters('audit')).toEqual([{ id: 'a', json: '{"y":1}' }]);
      await expect(store.listDeadLetters('bad group')).rejects.toBeInstanceOf(TypeError);
      // One letter by its id, in its own group only.
      expect(await store.getDeadLetter('billing', 'b')).toEqual({ id: 'b', json: '{"x":2}' });
      expect(await store.getDeadLetter('billing', 'a')).toBeNull();
      expect(await store.getDeadLetter('audit', 'b')).toBeNull();
      await expect(store.getDeadLetter('bad group', 'b')).rejects.toBeInstanceOf(TypeError);
    });

    it('lists more dead letters than one read of the store takes, each once', async () => {
      const ids = Array.from({ length: 2_500 }, (_, i) => `letter-${i}`);
      for (let i = 0; i < ids.length; i += 250) {
        await Promise.all(ids.slice(i, i + 250).map((id) => store.addDeadLetter('bulk', { id, json: `{"n":"${id}"}` })));
      }
      const listed = await store.listDeadLetters('bulk');
      expect(listed.map((l) => l.id).sort()).toEqual([...ids].sort());
      expect(listed.every((l) => l.json === `{"n":"${l.id}"}`)).toBe(true);
    });

    it('refuses malformed cursors and limits', async () => {
      await expect(store.readEvents(cid, 'nope', 10)).rejects.toBeInstanceOf(TypeError);
      await expect(store.readEvents(cid, null, 0)).rejects.toBeInstanceOf(TypeError);
      await expect(store.readEvents(cid, null, 1001)).rejects.toBeInstanceOf(TypeError);
    });
  });
}
