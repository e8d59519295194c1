/**
 * A store consistency checker for one SCIM connection, used by the reliability tests.
 *
 * Through the Store API (both stores):
 *  - every user and group listed by `listPage` reads back identically through `getResource`, and its JSON is
 *    an object whose `id` is the resource id (groups keep `members` outside the JSON);
 *  - for every index entry a live resource produces (derived with the SCIM layer's own `userSpec.indexes` /
 *    `groupSpec.indexes`), `findByIndex` returns exactly the live resources producing that value, in creation
 *    order: so every resource is reachable from its indexes, no index entry points at a resource whose
 *    attribute does not produce it (or that is gone), and a unique index value is held by one resource only;
 *  - the same holds for every "probe" value (index values derived from strings the caller has written at
 *    some point), which finds stale entries left behind by updates and deletes even on the memory store,
 *    whose index maps cannot be read directly;
 *  - group members are non-empty strings without duplicates, and every user's derived `groups` equals the
 *    groups (in creation order) whose members list the user's id, with their current displayName;
 *  - ids the caller saw deleted stay gone;
 *  - listSorted by each sort index of the SCIM layer (after indexing any backlog, as a first sortBy does)
 *    orders the live resources as their sort entries (derived with `sortEntries`) say, and by creation lists
 *    them all.
 *
 * Additionally, for Redis, raw reads of the connection's keys (layout in src/store/redis.ts):
 *  - `<k>:order` and `<k>:r` agree (same ids and seqs), and each record's stored index entries equal the
 *    entries its JSON produces (those are what a later replace/delete removes);
 *  - HGETALL of every `<k>:i:<attribute>` hash: each field (index value) lists only live seqs whose resource
 *    produces exactly that value, no empty or duplicate seqs, and every entry a resource produces is there;
 *    each such hash is registered in `attrs` (or deleteConnection would leak it);
 *  - the `member` reverse index equals the groups' member lists, `g:mz:<id>` / `g:mm:<id>` exist only for
 *    live groups with members, no membership job is left unsettled (`g:jobs`, `g:j:*`),
 *    `g:dn` maps exactly the live groups to their displayName, `seq` is not behind the records, and no key
 *    outside the documented layout exists under the connection's hash tag.
 *
 * Index values are compared as exact JavaScript strings (what the SCIM layer computed), not as UTF-8 bytes.
 */
import { CrowdedValueError } from '../../src/store/crowded-values.js';
import { scanKeys } from './redis.js';
import type { Redis } from 'ioredis';
import { fold, localPart } from '../../src/fold.js';
import { groupSpec } from '../../src/scim/groups.js';
import type { JsonObject } from '../../src/scim/normalize.js';
import { sortEntries } from '../../src/scim/sort.js';
import { userSpec } from '../../src/scim/users.js';
import type { IndexEntry, ResourceKind, Store, StoredResource } from '../../src/store/store.js';
import { INDEX_ATTRIBUTE_CODES, SMALL_ROW_BYTES } from '../../src/store/redis-scripts.js';
import { loginProjectionOf } from '../../src/store/login-outcome.js';
import { MEMBERSHIP_BYTES } from '../../src/store/write-weights.js';

export interface RedisInspection {
  client: Redis;
  /** The `prefix` option the store was created with. */
  prefix: string;
}

export interface ConsistencyOptions {
  redis?: RedisInspection | undefined;
  /** Strings written at some point (userNames, emails, externalIds, displayNames…); index values are derived from them. */
  probes?: Iterable<string>;
  /** Most probe strings used (the most recent are kept); default 2,000. */
  maxProbes?: number;
  /** Resources the caller saw deleted: they must stay gone. */
  gone?: Iterable<{ kind: ResourceKind; id: string }>;
}

export interface ConsistencyReport {
  problems: string[];
  /** How many individual assertions were evaluated. */
  checks: number;
  users: number;
  groups: number;
}

const KINDS: ResourceKind[] = ['User', 'Group'];
const CODE: Record<ResourceKind, 'u' | 'g'> = { User: 'u', Group: 'g' };
/** Unique index attributes, by kind (users.ts and groups.ts). */
const UNIQUE: Record<ResourceKind, Set<string>> = { User: new Set(['userName']), Group: new Set(['displayName']) };

const show = (s: string): string => JSON.stringify(s.length > 60 ? `${s.slice(0, 57)}...` : s);
const key = (kind: ResourceKind, attribute: string, value: string) => `${kind}\u0000${attribute}\u0000${value}`;
const splitKey = (k: string) => {
  const [kind, attribute, ...rest] = k.split('\u0000');
  return { kind: kind as ResourceKind, attribute: attribute!, value: rest.join('\u0000') };
};

/** Index entries of a stored resource, exactly as the SCIM layer computes them (deduplicated like the stores do). */
export function expectedIndexes(kind: ResourceKind, json: JsonObject): IndexEntry[] {
  const raw = kind === 'User' ? userSpec.indexes(json) : groupSpec.indexes(json);
  const out = new Map<string, IndexEntry>();
  for (const e of raw) {
    const k = `${e.attribute}\u0000${e.value}`;
    out.set(k, { attribute: e.attribute, value: e.value, unique: e.unique || out.get(k)?.unique === true });
  }
  return [...out.values()];
}

/** Index values a written string could have produced, per kind and attribute. */
export function probeValues(text: string): { kind: ResourceKind; attribute: string; value: string }[] {
  const folded = fold(text);
  return [
    { kind: 'User', attribute: 'userName', value: folded },
    { kind: 'User', attribute: 'userNameLocal', value: fold(localPart(text)) },
    { kind: 'User', attribute: 'externalId', value: text },
    { kind: 'User', attribute: 'email', value: folded },
    { kind: 'Group', attribute: 'displayName', value: folded },
    { kind: 'Group', attribute: 'externalId', value: text },
  ];
}

async function listAll(store: Store, connectionId: string, kind: ResourceKind): Promise<{ total: number; resources: StoredResource[] }> {
  const resources: StoredResource[] = [];
  let total: number;
  // A page may end early (GROUP_IDS_PER_PAGE, PAGE_MEMBERS_BUDGET): the walk steps by what it got.
  for (let offset = 0; ;) {
    const page = await store.listPage(connectionId, kind, offset, 500);
    total = page.total;
    resources.push(...page.resources);
    offset += page.resources.length;
    if (page.resources.length === 0 || offset >= total) break;
  }
  return { total, resources };
}

/** Runs `fn` over items with bounded concurrency (Redis round trips overlap; memory is synchronous anyway). */
async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

export async function checkConsistency(store: Store, connectionId: string, options: ConsistencyOptions = {}): Promise<ConsistencyReport> {
  const problems: string[] = [];
  let checks = 0;
  const expect = (ok: boolean, problem: () => string) => {
    checks++;
    if (!ok) problems.push(problem());
  };

  const live: Record<ResourceKind, StoredResource[]> = { User: [], Group: [] };
  const parsed = new Map<string, JsonObject>(); // `${kind}:${id}` → JSON
  /** (kind, attribute, value) → ids producing it, in creation order. */
  const producers = new Map<string, string[]>();
  const entriesOf = new Map<string, IndexEntry[]>(); // `${kind}:${id}` → its entries

  for (const kind of KINDS) {
    const { total, resources } = await listAll(store, connectionId, kind);
    live[kind] = resources;
    expect(total === resources.length, () => `${kind}: listPage total ${total} but ${resources.length} resources listed`);
    const ids = new Set(resources.map((r) => r.id));
    expect(ids.size === resources.length, () => `${kind}: listPage returns duplicate ids`);
    const usage = await store.getUsage(connectionId);
    const counted = kind === 'User' ? usage.users : usage.groups;
    expect(counted === resources.length, () => `${kind}: getUsage counts ${counted} but ${resources.length} are listed`);
    for (const r of resources) {
      expect(r.kind === kind, () => `${kind} ${r.id}: listed with kind ${r.kind}`);
      expect(Number.isSafeInteger(r.version) && r.version >= 1, () => `${kind} ${r.id}: bad version ${r.version}`);
      let json: JsonObject | null = null;
      try {
        const value = JSON.parse(r.json) as unknown;
        if (typeof value === 'object' && value !== null && !Array.isArray(value)) json = value as JsonObject;
      } catch {
        // reported below
      }
      expect(json !== null, () => `${kind} ${r.id}: stored JSON is not an object`);
      if (!json) continue;
      expect(json.id === r.id, () => `${kind} ${r.id}: JSON id is ${String(json.id)}`);
      if (kind === 'Group') {
        expect(!('members' in json), () => `Group ${r.id}: members kept inside the JSON blob`);
        const values = (r.members ?? []).map((m) => m.value);
        expect(new Set(values).size === values.length, () => `Group ${r.id}: duplicate member values`);
        expect(
          values.every((v) => typeof v === 'string' && v !== ''),
          () => `Group ${r.id}: a member value is not a non-empty string`,
        );
      }
      parsed.set(`${kind}:${r.id}`, json);
      let entries: IndexEntry[] = [];
      try {
        entries = expectedIndexes(kind, json);
      } catch (error) {
        expect(false, () => `${kind} ${r.id}: its JSON does not produce index entries (${String(error)})`);
      }
      entriesOf.set(`${kind}:${r.id}`, entries);
      for (const e of entries) {
        const k = key(kind, e.attribute, e.value);
        const list = producers.get(k) ?? [];
        list.push(r.id);
        producers.set(k, list);
      }
    }
    // getResource agrees with listPage.
    await inBatches(resources, 100, async (r) => {
      const one = await store.getResource(connectionId, kind, r.id);
      expect(one !== null && JSON.stringify(one) === JSON.stringify(r), () => `${kind} ${r.id}: getResource differs from listPage`);
    });
  }

  // Unique values are held by one resource at most.
  for (const [k, ids] of producers) {
    const { kind, attribute, value } = splitKey(k);
    if (UNIQUE[kind].has(attribute)) {
      expect(ids.length <= 1, () => `${kind} unique ${attribute} ${show(value)} is held by ${ids.length} resources: ${ids.join(', ')}`);
    }
  }

  // Index lookups: every produced value, plus the probes.
  const lookups = new Set(producers.keys());
  const probeList = [...(options.probes ?? [])];
  const maxProbes = options.maxProbes ?? 2000;
  for (const text of probeList.slice(Math.max(0, probeList.length - maxProbes))) {
    for (const p of probeValues(text)) lookups.add(key(p.kind, p.attribute, p.value));
  }
  await inBatches([...lookups], 200, async (k) => {
    const { kind, attribute, value } = splitKey(k);
    let found: StoredResource[];
    try {
      found = await store.findByIndex(connectionId, kind, attribute, value);
    } catch (error) {
      // A crowded value (src/store/crowded-values.ts) is refused only while it counts a holder it does not list,
      // so somebody holds it (maybe one: with a cap of 1, the listed holder gone and the counted one left).
      const holders = producers.get(k)?.length ?? 0;
      expect(
        error instanceof CrowdedValueError && holders >= 1,
        () => `findByIndex(${kind}, ${attribute}, ${show(value)}) threw ${String(error)} (${holders} hold it)`,
      );
      return;
    }
    const got = found.map((r) => r.id);
    const want = producers.get(k) ?? [];
    expect(
      got.length === want.length && got.every((id, i) => id === want[i]),
      () =>
        `${kind} index ${attribute}=${show(value)}: findByIndex returns [${got.join(', ')}], ` + `but the live resources producing it are [${want.join(', ')}]`,
    );
  });

  // Sort indexes: listSorted orders every live resource as the SCIM layer's sort entries say (values as
  // JavaScript compares strings, ties and values missing by creation), and lists all of them by creation.
  for (const kind of KINDS) {
    const spec = kind === 'User' ? userSpec : groupSpec;
    const rows = live[kind].map((r, position) => {
      const json = parsed.get(`${kind}:${r.id}`);
      return { id: r.id, position, entries: json ? sortEntries(spec, json) : [] };
    });
    /** The whole sorted list, page by page (a page may end early), or null while the index is incomplete. */
    const read = async (attribute: string | null, descending: boolean) => {
      const order = { attribute, descending };
      const first = await store.listSorted(connectionId, kind, order, 0, rows.length + 1, { members: false });
      if (first === null) return null;
      const resources = [...first.resources];
      while (resources.length < first.total) {
        const next = await store.listSorted(connectionId, kind, order, resources.length, rows.length + 1, { members: false });
        if (next === null || next.resources.length === 0) break;
        resources.push(...next.resources);
      }
      return { total: first.total, resources };
    };
    // A store may keep sort entries only once a client sorts (Redis): index the backlog as a first sortBy
    // does (src/scim/sort-backfill.ts), which also switches them on for the writes that follow.
    if ((await read(spec.sortIndexes.find((i) => i.attribute !== null)?.attribute ?? null, false)) === null) {
      for (let step = 0; step < 10_000; step++) {
        const backlog = await store.sortBacklog(connectionId, kind, 500);
        if (backlog.done) break;
        const fills = backlog.resources.map((r) => ({ id: r.id, version: r.version, sortKeys: sortEntries(spec, spec.fromStored(r)) }));
        if ((await store.fillSortIndex(connectionId, kind, backlog.through, fills)) === 'done') break;
      }
    }
    const byCreation = await read(null, true);
    expect(
      JSON.stringify(byCreation?.resources.map((r) => r.id)) === JSON.stringify(rows.map((r) => r.id).reverse()),
      () => `${kind}: listSorted by creation, newest first, is not the reverse of listPage`,
    );
    for (const index of spec.sortIndexes) {
      if (index.attribute === null) continue;
      const keyed = rows.map((r) => ({ id: r.id, position: r.position, value: r.entries.find((e) => e.attribute === index.attribute)?.value ?? null }));
      const present = keyed.filter((r) => r.value !== null).sort((a, b) => (a.value! < b.value! ? -1 : a.value! > b.value! ? 1 : a.position - b.position));
      const want = [...present, ...keyed.filter((r) => r.value === null)].map((r) => r.id);
      const got = await read(index.attribute, false);
      expect(got !== null, () => `${kind}: listSorted(${index.attribute}) answers that the sort index is incomplete`);
      expect(
        got !== null && got.total === want.length && JSON.stringify(got.resources.map((r) => r.id)) === JSON.stringify(want),
        () => `${kind}: listSorted(${index.attribute}) lists ${got?.total} resources out of the order their sort entries give (${want.length})`,
      );
    }
  }

  // Derived user.groups equals group membership.
  const groupsByMember = new Map<string, { value: string; display: string }[]>();
  for (const g of live.Group) {
    const display = String(parsed.get(`Group:${g.id}`)?.displayName ?? '');
    for (const m of g.members ?? []) {
      const list = groupsByMember.get(m.value) ?? [];
      list.push({ value: g.id, display });
      groupsByMember.set(m.value, list);
    }
  }
  for (const u of live.User) {
    const want = groupsByMember.get(u.id) ?? [];
    const got = u.groups ?? [];
    expect(
      JSON.stringify(got) === JSON.stringify(want),
      () => `User ${u.id}: derived groups ${JSON.stringify(got)} but group memberships say ${JSON.stringify(want)}`,
    );
  }

  // Deleted stays deleted.
  const gone = [...(options.gone ?? [])];
  await inBatches(gone, 100, async ({ kind, id }) => {
    const again = await store.getResource(connectionId, kind, id);
    expect(again === null, () => `${kind} ${id} was deleted but getResource finds it again`);
  });

  if (options.redis) {
    const raw = await checkRedisKeys(options.redis, connectionId, live, entriesOf, parsed);
    problems.push(...raw.problems);
    checks += raw.checks;
  }
  return { problems, checks, users: live.User.length, groups: live.Group.length };
}

/** After deleteConnection: nothing of the connection is left. */
export async function checkConnectionGone(store: Store, connectionId: string, redis?: RedisInspection): Promise<ConsistencyReport> {
  const problems: string[] = [];
  let checks = 0;
  for (const kind of KINDS) {
    const page = await store.listPage(connectionId, kind, 0, 10);
    checks++;
    if (page.total !== 0 || page.resources.length !== 0) problems.push(`${kind}: ${page.total} resources left after deleteConnection`);
  }
  if (redis) {
    const keys = await scanKeys(redis.client, `${escapeGlob(`${redis.prefix}{c:${connectionId}}:`)}*`);
    checks++;
    if (keys.length > 0) problems.push(`Redis keys left after deleteConnection: ${keys.slice(0, 5).join(', ')}${keys.length > 5 ? '…' : ''}`);
  }
  return { problems, checks, users: 0, groups: 0 };
}

// ---------------------------------------------------------------------------------------------------------
// Redis raw inspection

const escapeGlob = (s: string) => s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);

/** Decodes the msgpack array of strings Lua's cmsgpack writes for a record's own index entries. */
export function decodeStringArray(buf: Buffer): string[] {
  let p = 0;
  const u8 = () => buf[p++]!;
  const readLen = (bytes: number) => {
    let n = 0;
    for (let i = 0; i < bytes; i++) n = n * 256 + u8();
    return n;
  };
  const first = u8();
  let count: number;
  if (first >= 0x90 && first <= 0x9f) count = first - 0x90;
  else if (first === 0xdc) count = readLen(2);
  else if (first === 0xdd) count = readLen(4);
  else if (first === 0x80)
    count = 0; // an empty Lua table may be packed as an empty map
  else throw new Error(`not a msgpack array (0x${first.toString(16)})`);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const t = u8();
    let len: number;
    if (t >= 0xa0 && t <= 0xbf) len = t - 0xa0;
    else if (t === 0xd9 || t === 0xc4) len = readLen(1);
    else if (t === 0xda || t === 0xc5) len = readLen(2);
    else if (t === 0xdb || t === 0xc6) len = readLen(4);
    else throw new Error(`not a msgpack string (0x${t.toString(16)})`);
    out.push(buf.subarray(p, p + len).toString('utf8'));
    p += len;
  }
  if (p !== buf.length) throw new Error('trailing bytes after the msgpack array');
  return out;
}

/** Attribute names by the one-character codes a row's index entries use (src/store/redis-lua-prelude.ts). */
const INDEX_NAME: Record<string, string> = Object.fromEntries(Object.entries(INDEX_ATTRIBUTE_CODES).map(([name, code]) => [code, name]));

interface RawRecord {
  version: number;
  id: string;
  entries: string[];
  json: string;
}

function parseRecord(buf: Buffer): RawRecord {
  // '<v>:<len id>:<len x>[/<len s>[/<event entry seq>]]:' (src/store/redis-lua-prelude.ts, parseRes)
  const head = /^(\d+):(\d+):(\d+)(?:\/(\d+)(?:\/\d+)?)?:/.exec(buf.subarray(0, 64).toString('latin1'));
  if (!head) throw new Error('record header is malformed');
  const p = head[0].length;
  const il = Number(head[2]);
  const xl = Number(head[3]);
  const sl = Number(head[4] ?? 0);
  return {
    version: Number(head[1]),
    id: buf.subarray(p, p + il).toString('utf8'),
    entries: decodeStringArray(buf.subarray(p + il, p + il + xl)).map((item, i) => (i % 2 === 0 ? (INDEX_NAME[item] ?? item) : item)),
    json: buf.subarray(p + il + xl + sl).toString('utf8'),
  };
}

const ALLOWED_SUFFIX =
  /^(conn|seq|attrs|member|bytes|g:dn|g:mb|g:top|g:mz:.+|g:mm:.+|[ug]:order|[ug]:r|[ug]:i:.+|[ug]:s:.+|[ug]:sorted|[ug]:rows|u:gone|u:lp|ev|ev:last|ev:since|ev:lists|ev:j|ev:jq|ev:jb|ev:jf|ev:ob|ev:held|ev:cursors|ev:leases|ev:[ar]:\d+)$/;

async function checkRedisKeys(
  redis: RedisInspection,
  connectionId: string,
  live: Record<ResourceKind, StoredResource[]>,
  entriesOf: Map<string, IndexEntry[]>,
  parsed: Map<string, JsonObject>,
): Promise<{ problems: string[]; checks: number }> {
  const { client } = redis;
  const tag = `${redis.prefix}{c:${connectionId}}:`;
  const problems: string[] = [];
  let checks = 0;
  const expect = (ok: boolean, problem: () => string) => {
    checks++;
    if (!ok) problems.push(`[redis] ${problem()}`);
  };

  const keys = (await scanKeys(client, `${escapeGlob(tag)}*`)).map((k) => k.slice(tag.length));
  for (const suffix of keys) expect(ALLOWED_SUFFIX.test(suffix), () => `unexpected key ${show(suffix)} under the connection tag`);
  // The event log's count of the bytes it holds on its own is exact (maxEventBytes trims by it): its copies,
  // and what entries list of their own (ev:ob).
  const copies = await client.hgetallBuffer(`${tag}ev:j`);
  const copied = Object.values(copies).reduce((sum, value) => sum + value.length, 0);
  const listed = Object.values(await client.hgetall(`${tag}ev:ob`)).reduce((sum, value) => sum + Number(value), 0);
  const logBytes = Number((await client.get(`${tag}ev:jb`)) ?? 0);
  expect(logBytes === copied + listed, () => `ev:jb counts ${logBytes} bytes, ev:j holds ${copied} and ev:ob ${listed}`);
  const attrs = new Set(await client.smembers(`${tag}attrs`));
  let maxSeq = 0;

  /** seq → record, per kind. */
  const records: Record<ResourceKind, Map<string, RawRecord>> = { User: new Map(), Group: new Map() };
  for (const kind of KINDS) {
    const k = CODE[kind];
    const order = await client.zrange(`${tag}${k}:order`, '0', '-1', 'WITHSCORES');
    const seqOfId = new Map<string, string>();
    for (let i = 0; i < order.length; i += 2) seqOfId.set(order[i]!, String(Number(order[i + 1])));
    const rhash = await client.hgetallBuffer(`${tag}${k}:r`);
    for (const [seq, buf] of Object.entries(rhash)) {
      maxSeq = Math.max(maxSeq, Number(seq));
      let record: RawRecord;
      try {
        record = parseRecord(buf);
      } catch (error) {
        expect(false, () => `${k}:r field ${seq} is not a record (${String(error)})`);
        continue;
      }
      records[kind].set(seq, record);
      expect(seqOfId.get(record.id) === seq, () => `${k}:r seq ${seq} holds ${record.id}, which ${k}:order maps to ${seqOfId.get(record.id) ?? 'nothing'}`);
    }
    expect(seqOfId.size === records[kind].size, () => `${k}:order has ${seqOfId.size} ids but ${k}:r has ${records[kind].size} records`);
    // A kind said to hold small rows holds none larger (the page reads rely on it: readRows).
    const sizes = await client.get(`${tag}${k}:rows`);
    expect(sizes === null || sizes === 'small' || sizes === 'big', () => `${k}:rows is ${show(String(sizes))}`);
    if (sizes === 'small') {
      for (const [seq, buf] of Object.entries(rhash)) {
        expect(buf.length <= SMALL_ROW_BYTES + 64, () => `${k}:rows says small, but record ${seq} is ${buf.length} bytes`);
      }
    }
    expect(seqOfId.size === live[kind].length, () => `${k}:order has ${seqOfId.size} ids but listPage finds ${live[kind].length}`);

    // Login projections (u:lp): exactly the large users have one, and it is what their JSON projects to.
    if (kind === 'User') {
      const projections = await client.hgetall(`${tag}u:lp`);
      for (const [seq, value] of Object.entries(projections)) {
        const record = records.User.get(seq);
        const head = /^(\d+):(\d+):/.exec(value);
        const id = head ? value.slice(head[0].length, head[0].length + Number(head[2])) : '';
        const projection = head ? value.slice(head[0].length + Number(head[2])) : '';
        expect(record !== undefined && record.id === id, () => `u:lp field ${seq} names ${show(id)}, which is not the user at that seq`);
        if (record) expect(projection === loginProjectionOf(record.json), () => `u:lp of ${record.id} is not what its JSON projects to`);
      }
      for (const [seq, record] of records.User) {
        const want = loginProjectionOf(record.json);
        expect(
          want === null || seq in projections,
          () => `user ${record.id} (seq ${seq}) has ${record.json.length} characters of JSON but no login projection`,
        );
      }
    }

    // Each record's own entries (what replace/delete will remove) equal what its JSON produces.
    for (const [seq, record] of records[kind]) {
      const want = entriesOf.get(`${kind}:${record.id}`);
      if (!want) continue; // not listed: reported above
      const got = new Set<string>();
      for (let i = 0; i + 1 < record.entries.length; i += 2) got.add(`${record.entries[i]}\u0000${record.entries[i + 1]}`);
      const wantSet = new Set(want.map((e) => `${e.attribute}\u0000${e.value}`));
      expect(
        got.size === wantSet.size && [...got].every((x) => wantSet.has(x)),
        () =>
          `${kind} ${record.id} (seq ${seq}): stored own index entries ${JSON.stringify([...got])} differ from what its JSON produces ${JSON.stringify([...wantSet])}`,
      );
    }

    // Every index hash: entries point at live seqs whose resource produces exactly that value.
    const indexKeys = keys.filter((s) => s.startsWith(`${k}:i:`));
    const seen = new Set<string>(); // `${attribute}\0${value}\0${seq}`
    const crowdedValues = new Set<string>(); // `${attribute}\0${value}` of values counting unlisted holders
    const holdingCount = new Map<string, number>(); // `${attribute}\0${value}` -> how many live resources produce it
    for (const record of records[kind].values()) {
      for (const e of entriesOf.get(`${kind}:${record.id}`) ?? []) {
        const key = `${e.attribute}\u0000${e.value}`;
        holdingCount.set(key, (holdingCount.get(key) ?? 0) + 1);
      }
    }
    for (const suffix of indexKeys) {
      const attribute = suffix.slice(`${k}:i:`.length);
      expect(attrs.has(suffix), () => `index hash ${show(suffix)} is not registered in attrs (deleteConnection would leak it)`);
      const hash = await client.hgetall(`${tag}${suffix}`);
      for (const [value, entryText] of Object.entries(hash)) {
        // A crowded value lists some holders and counts the rest: '+<unlisted> <seq>...' (src/store/crowded-values.ts).
        const crowded = /^\+(\d+) ?(.*)$/s.exec(entryText);
        const unlisted = crowded ? Number(crowded[1]) : 0;
        const seqsText = crowded ? crowded[2]! : entryText;
        const seqs = seqsText === '' && crowded ? [] : seqsText.split(' ');
        expect(crowded === null || unlisted > 0, () => `${suffix} ${show(value)}: crowded with none unlisted`);
        const holding = holdingCount.get(`${attribute}\u0000${value}`) ?? 0;
        expect(seqs.length + unlisted === holding, () => `${suffix} ${show(value)}: lists ${seqs.length} and counts ${unlisted} unlisted, ${holding} hold it`);
        if (unlisted > 0) crowdedValues.add(`${attribute}\u0000${value}`);
        expect(
          (seqsText !== '' || crowded !== null) && seqs.every((s) => s !== ''),
          () => `${suffix} ${show(value)}: malformed seq list ${JSON.stringify(seqsText)}`,
        );
        expect(new Set(seqs).size === seqs.length, () => `${suffix} ${show(value)}: duplicate seqs ${seqsText}`);
        for (const seq of seqs) {
          seen.add(`${attribute}\u0000${value}\u0000${seq}`);
          const record = records[kind].get(seq);
          expect(record !== undefined, () => `${suffix} ${show(value)} points at seq ${seq}, which is no live ${kind}`);
          if (!record) continue;
          const produced = entriesOf.get(`${kind}:${record.id}`) ?? [];
          expect(
            produced.some((e) => e.attribute === attribute && e.value === value),
            () => `${suffix} ${show(value)} points at ${kind} ${record.id}, whose attributes do not produce that value`,
          );
        }
      }
    }
    for (const [seq, record] of records[kind]) {
      for (const e of entriesOf.get(`${kind}:${record.id}`) ?? []) {
        expect(
          seen.has(`${e.attribute}\u0000${e.value}\u0000${seq}`) || crowdedValues.has(`${e.attribute}\u0000${e.value}`),
          () => `${kind} ${record.id} is not reachable from ${k}:i:${e.attribute} ${show(e.value)}`,
        );
      }
    }
  }
  const seq = Number((await client.get(`${tag}seq`)) ?? 0);
  expect(seq >= maxSeq, () => `seq counter ${seq} is behind the highest record seq ${maxSeq}`);

  // Member reverse index ⇔ group member lists.
  const liveGroups = new Map(live.Group.map((g) => [g.id, g]));
  const memberHash = await client.hgetall(`${tag}member`);
  for (const [value, gidsText] of Object.entries(memberHash)) {
    const gids = gidsText.split(' ');
    expect(gidsText !== '' && new Set(gids).size === gids.length, () => `member ${show(value)}: malformed group list ${JSON.stringify(gidsText)}`);
    for (const gid of gids) {
      const group = liveGroups.get(gid);
      expect(group !== undefined, () => `member ${show(value)} lists group ${gid}, which is gone`);
      expect(
        group === undefined || (group.members ?? []).some((m) => m.value === value),
        () => `member ${show(value)} lists group ${gid}, which has no such member`,
      );
    }
  }
  for (const g of live.Group) {
    for (const m of g.members ?? []) {
      expect((memberHash[m.value] ?? '').split(' ').includes(g.id), () => `Group ${g.id} lists member ${show(m.value)}, but the member reverse index does not`);
    }
  }
  for (const suffix of keys.filter((s) => s.startsWith('g:mz:') || s.startsWith('g:mm:'))) {
    const gid = suffix.slice(5);
    expect(liveGroups.has(gid), () => `member key ${suffix} exists for a group that is gone`);
    expect((liveGroups.get(gid)?.members?.length ?? 0) > 0, () => `member key ${suffix} exists but the group has no members`);
  }
  // Each group's highest member position given (g:top) names a live group and is at least its list's top.
  for (const [gid, top] of Object.entries(await client.hgetall(`${tag}g:top`))) {
    expect(liveGroups.has(gid), () => `g:top names ${gid}, a group that is gone`);
    const last = await client.zrange(`${tag}g:mz:${gid}`, '-1', '-1', 'WITHSCORES');
    expect(last.length === 0 || Number(top) >= Number(last[1]), () => `g:top of ${gid} is ${top}, below its list's top position ${last[1]}`);
  }
  const dn = await client.hgetall(`${tag}g:dn`);
  expect(Object.keys(dn).length === live.Group.length, () => `g:dn has ${Object.keys(dn).length} groups, ${live.Group.length} are live`);
  for (const g of live.Group) {
    const want = parsed.get(`Group:${g.id}`)?.displayName;
    expect(dn[g.id] === want, () => `g:dn of ${g.id} is ${JSON.stringify(dn[g.id])} but its displayName is ${JSON.stringify(want)}`);
  }
  // The quota's byte counter equals what the live data counts for (resourceBytes in src/store/write-weights.ts).
  const utf8 = (text: string) => Buffer.byteLength(text, 'utf8');
  let bytes = 0;
  for (const kind of KINDS) {
    for (const record of records[kind].values()) bytes += utf8(record.json) + record.entries.reduce((n, e) => n + utf8(e), 0);
  }
  const memberBytes = await client.hgetall(`${tag}g:mb`);
  for (const g of live.Group) {
    const values = await client.zrange(`${tag}g:mz:${g.id}`, '0', '-1');
    const metas = await client.hgetall(`${tag}g:mm:${g.id}`);
    // Own keys only: member values are client data (`valueOf`, `__proto__`…).
    const own = values.reduce((n, value) => n + utf8(value) + utf8(Object.hasOwn(metas, value) ? metas[value]! : '') + MEMBERSHIP_BYTES, 0);
    expect(Number(memberBytes[g.id] ?? 0) === own, () => `g:mb of ${g.id} is ${memberBytes[g.id]} but its members count for ${own} bytes`);
    bytes += own;
  }
  const counted = Number((await client.get(`${tag}bytes`)) ?? 0);
  expect(counted === bytes, () => `the bytes counter is ${counted} but the live resources count for ${bytes}`);
  return { problems, checks };
}
