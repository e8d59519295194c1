/**
 * Group member writes, differential: the same random writes to a group go to the memory store and to the
 * Redis store, and both must end with the same members (in order, with display and type), the same members'
 * groups, the same member events (ignoring how a store splits a write into log writes: Redis applies more
 * than INLINE_MEMBERS changes in chunks, each its own write) and the same byte usage. Sizes straddle
 * INLINE_MEMBERS and MEMBER_CHUNK, and values are drawn from a small pool, so that writes remove and re-add
 * the same members, add members the group has and remove members it has not.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryStore } from '../../src/store/memory.js';
import { redisStore } from '../../src/store/redis.js';
import { INLINE_MEMBERS } from '../../src/store/redis-scripts.js';
import type { Store, StoredMember } from '../../src/store/store.js';
import type { WriteEvents } from '../../src/store/event-log.js';
import { groupWrite, makeConnection, userWrite } from './contract.js';
import { testRedis, type TestRedis } from '../support/redis.js';

const MEMBERS: WriteEvents['members'] = { added: 'group.member_added', removed: 'group.member_removed' };
const POOL = 2 * INLINE_MEMBERS + 100;
/** Pool values below this are users (whose groups and versions move); the rest are plain values. */
const USERS = 40;
const value = (i: number) => `v${i}`;
const member = (i: number, flavour: number): StoredMember =>
  flavour === 0 ? { value: value(i) } : { value: value(i), display: `V ${i} ${flavour}`, type: 'User' };

type Write = { kind: 'changes'; remove: number[]; add: [number, number][] } | { kind: 'list'; members: [number, number][] };

/** Few values, or many: enough to straddle INLINE_MEMBERS (fast-check keeps arrays short unless told). */
const few = <T>(arb: fc.Arbitrary<T>) => fc.array(arb, { maxLength: 8 });
const many = <T>(arb: fc.Arbitrary<T>, most: number) => fc.array(arb, { minLength: INLINE_MEMBERS - 60, maxLength: most, size: 'max' });
const index = fc.nat({ max: POOL - 1 });
const sent = fc.tuple(index, fc.nat({ max: 2 }));
const writeArb: fc.Arbitrary<Write> = fc.oneof(
  fc.record({
    kind: fc.constant('changes' as const),
    remove: fc.oneof(few(index), many(index, 2 * INLINE_MEMBERS)),
    add: fc.oneof(few(sent), many(sent, 2 * INLINE_MEMBERS + 20)),
  }),
  fc.record({ kind: fc.constant('list' as const), members: fc.oneof(few(sent), many(sent, INLINE_MEMBERS + 40)) }),
);

/** The members a write sends, each value once (the SCIM layer sends them so: planGroupPatch's maps). */
function firstOfEach(pairs: [number, number][]): StoredMember[] {
  const seen = new Map<number, StoredMember>();
  for (const [i, flavour] of pairs) if (!seen.has(i)) seen.set(i, member(i, flavour));
  return [...seen.values()];
}

describe('group member writes on the memory and the Redis store, differential', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await testRedis('group-differential');
  });
  afterAll(async () => {
    await redis.cleanup();
  });

  it('ends every random run of member writes with the same members, groups, events and bytes', { timeout: 180_000 }, async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(writeArb, { minLength: 1, maxLength: 6 }), async (writes) => {
        run++;
        const stores: Store[] = [memoryStore(), redisStore({ client: redis.client, prefix: `${redis.prefix}${run}:` })];
        const outcomes = await Promise.all(stores.map((store) => apply(store, writes)));
        expect(outcomes[1]).toEqual(outcomes[0]);
      }),
      { numRuns: 60, seed: Number(process.env.FUZZ_SEED ?? 20261205) },
    );
  });
});

/** Applies `writes` to a fresh connection's group on `store`; answers what both stores must agree on. */
async function apply(store: Store, writes: Write[]) {
  const connection = makeConnection();
  const cid = connection.connectionId;
  await store.createConnection(connection);
  for (let i = 0; i < USERS; i++) await store.createResource(cid, userWrite(value(i), `user${i}@corp.test`));
  const created = await store.createResource(cid, {
    ...groupWrite('g', 'Group', []),
    events: { resource: { type: 'group.created', changed: ['displayName'] }, members: MEMBERS },
  });
  expect(created.ok).toBe(true);
  const outcomes: string[] = [];
  let version = 1;
  for (const write of writes) {
    const events: WriteEvents = { resource: null, members: MEMBERS };
    const base = { ...groupWrite('g', 'Group'), members: undefined, events };
    const sent =
      write.kind === 'changes'
        ? { ...base, memberChanges: { remove: [...new Set(write.remove.map(value))], add: firstOfEach(write.add) }, keepIfMembersUnchanged: true }
        : { ...base, members: firstOfEach(write.members) };
    const outcome = await store.replaceResource(cid, sent, version);
    if (!outcome.ok) throw new Error(`write refused: ${JSON.stringify(outcome)}`);
    outcomes.push(outcome.unchanged ? 'unchanged' : 'written');
    version = outcome.version;
  }
  const members: StoredMember[] = [];
  for (let offset = 0; ; offset += 1000) {
    const page = await store.listGroupMembers(cid, 'g', offset, 1000);
    members.push(...page!.members);
    if (offset + 1000 >= page!.total) break;
  }
  const groups = await Promise.all(
    Array.from({ length: USERS }, async (_, i) => (await store.getResource(cid, 'User', value(i)))?.groups?.map((g) => g.value)),
  );
  const events: string[] = [];
  for (let after: string | null = null; ;) {
    const page = await store.readEvents(cid, after, 1000);
    if (page.events.length === 0) break;
    events.push(...page.events.map((e) => `${e.type} ${e.member ?? ''}`));
    after = page.next;
  }
  return { outcomes, members, groups, events, bytes: (await store.getUsage(cid)).bytes };
}
