/**
 * Reading users and groups on Redis: by id, by index, pages in creation or sort order, cursor pages for
 * scans and the directory API, each one script of bounded work (PAGE_READ_BYTES, ROWS_PER_SCRIPT), and the
 * groups of users a script left without them (USER_GROUPS).
 */
import { crowdedValueOf } from './crowded-values.js';
import { GROUPS_UNREAD, KIND_CODE, membershipsOf, parseRawRow, parseResource, sortArgs } from './redis-codec.js';
import type { RedisContext } from './redis-context.js';
import type { RedisMemberReads } from './redis-member-reads.js';
import { MEMBER_CHUNK as CHUNK } from './redis-scripts.js';
import {
  isValidStoreId,
  type CursorPage,
  type NumberedResource,
  type Page,
  type PickedPage,
  type ReadOptions,
  type ResourceKind,
  type Store,
  type StoredResource,
} from './store.js';
import {
  assertCursorPaging,
  assertPaging,
  assertResourceKind,
  assertRowBytes,
  assertSortOrder,
  assertStoreId,
  assertIndexAttribute,
  assertIndexValue,
  normalizeSortKeys,
} from './store-checks.js';
import { GROUP_ID_BYTES, GROUP_IDS_PER_PAGE, PAGE_READ_BYTES, ROWS_PER_SCRIPT } from './read-budgets.js';

/** What LIST_PAGE and LIST_SORTED answer, read as bytes: {total, rows, aux}. */
type PageReply = [number | Buffer, (Buffer | null)[], Buffer[][]];

/** What a lookup looked up: an index value (`i`), or the member whose groups were listed (`m`). */
export interface Lookup {
  source: 'i' | 'm';
  attribute: string;
  value: string;
}

export type RedisReadMethods = Pick<
  Store,
  | 'getUsage'
  | 'getResource'
  | 'readSessionUser'
  | 'listAfter'
  | 'pickUsersAfter'
  | 'findByIndex'
  | 'findGroupsWithMember'
  | 'listPage'
  | 'listSorted'
  | 'sortBacklog'
  | 'fillSortIndex'
>;

export interface RedisReads {
  methods: RedisReadMethods;
  parseFound(connectionId: string, kind: ResourceKind, rows: unknown[][], lookup: Lookup, groupsUnread?: boolean): Promise<StoredResource[]>;
  fillGroups(connectionId: string, users: StoredResource[]): Promise<void>;
}

export function redisReads(ctx: RedisContext, members: Pick<RedisMemberReads, 'allWithMembers' | 'withinMembersBudget'>): RedisReads {
  const { run, runBuffer, tag } = ctx;
  const { allWithMembers, withinMembersBudget } = members;

  /** A LIST_PAGE or LIST_SORTED reply as a page (groups with their members unless told otherwise). */
  async function pageFrom(connectionId: string, kind: ResourceKind, reply: PageReply, options?: ReadOptions): Promise<Page> {
    const [total, rows, aux] = reply;
    const resources: StoredResource[] = [];
    const later: StoredResource[] = [];
    rows.forEach((row, i) => {
      const resource = parseRawRow(kind, row, aux[i] ?? []);
      if (resource && options?.groups === false) delete resource.groups;
      if (resource) resources.push(resource);
      if (resource && kind === 'User' && aux[i]?.length === 1) later.push(resource);
    });
    await fillGroups(connectionId, later);
    const upTo = options?.membersUpTo;
    const withAll = kind === 'Group' && options?.members !== false ? await allWithMembers(connectionId, withinMembersBudget(resources, upTo), upTo) : resources;
    return { total: Number(total), resources: withAll };
  }

  /** The page scripts' last argument: '0' when users' groups are not wanted (ReadOptions.groups). */
  const groupsFlag = (options: ReadOptions | undefined): string => (options?.groups === false ? '0' : '1');

  /**
   * What a lookup found (findAll in redis-lua-prelude.ts), as StoredResources with users' groups all read, but
   * those the script left unread (aux {'-'}; `groupsUnread`: so are those of the rows read here). Rows the script left past its byte budget (version -1) are read
   * one script each, and kept only if they still hold what was looked up (`lookup`: an index value, or the
   * member whose groups were listed), so a deferred read never answers a resource changed meanwhile.
   */
  async function parseFound(connectionId: string, kind: ResourceKind, rows: unknown[][], lookup: Lookup, groupsUnread = false): Promise<StoredResource[]> {
    const { source, attribute, value } = lookup;
    const holder = (id: string) => run('holder', tag(connectionId), KIND_CODE[kind], source, attribute, value, id, groupsUnread ? '0' : '1');
    const deferred = await Promise.all(rows.map((row) => (Number(row[2]) === -1 ? holder(String(row[0])) : null)));
    rows = rows.map((row, i) => (deferred[i] ? (deferred[i] as unknown[]) : row)).filter((row) => row.length > 0 && Number(row[2]) !== -1);
    const found = rows.map((row) => parseResource(kind, row));
    if (kind === 'User') {
      const aux = (i: number) => rows[i]![3] as unknown[];
      await fillGroups(
        connectionId,
        found.filter((_, i) => aux(i).length === 1 && aux(i)[0] !== GROUPS_UNREAD),
      );
    }
    return found;
  }

  /**
   * The folded userNames of the positions `seqs` that `asked` accepts, '' for the others (pickUsersAfter's
   * `userNames`), from the rows (a few µs a row in Lua): ROWS_PER_SCRIPT a script, within PAGE_READ_BYTES of
   * rows in all. `end`: how many positions the names cover (fewer than all when the budget ended them);
   * `gone`: the positions whose user was deleted since.
   */
  async function userNamesAt(
    connectionId: string,
    seqs: number[],
    asked: (seq: number) => boolean,
  ): Promise<{ names: string[]; end: number; gone: Set<number> }> {
    const names = seqs.map(() => '');
    const gone = new Set<number>();
    const at = seqs.flatMap((seq, i) => (asked(seq) ? [i] : []));
    let bytesLeft = PAGE_READ_BYTES;
    for (let from = 0; from < at.length; from += ROWS_PER_SCRIPT) {
      const part = at.slice(from, from + ROWS_PER_SCRIPT);
      const [bytes, read] = (await run('namesAt', tag(connectionId), bytesLeft, ...part.map((i) => seqs[i]!))) as [number, (string | null)[]];
      bytesLeft -= Number(bytes);
      read.forEach((name, j) => (name === null ? gone.add(part[j]!) : (names[part[j]!] = name)));
      // The rows' budget ended the names at the last one read.
      if (read.length < part.length || (bytesLeft <= 0 && from + ROWS_PER_SCRIPT < at.length)) return { names, end: part[read.length - 1]! + 1, gone };
    }
    return { names, end: seqs.length, gone };
  }

  /**
   * Reads with USER_GROUPS the groups of the users a script left without them (aux {'*'}: past its budget,
   * GROUP_IDS_PER_SCRIPT), a script's worth at a time: as they are now, which may be newer than the row.
   */
  async function fillGroups(connectionId: string, users: StoredResource[]): Promise<void> {
    for (let from = 0; from < users.length;) {
      const ids = users.slice(from, from + CHUNK).map((u) => u.id);
      const reply = (await run('groups', tag(connectionId), ...ids)) as string[][];
      reply.forEach((aux, j) => {
        users[from + j]!.groups = membershipsOf(aux);
      });
      from += Math.max(1, reply.length);
    }
  }

  /**
   * One LIST_AFTER script (listAfter): up to `count` resources after creation number `after`, within `left`
   * row bytes and group ids (what the page may still hold; the script keeps at least one resource).
   */
  async function afterOnce(
    connectionId: string,
    kind: ResourceKind,
    after: number,
    count: number,
    options?: ReadOptions,
    left = { bytes: PAGE_READ_BYTES, groupIds: GROUP_IDS_PER_PAGE },
  ): Promise<CursorPage> {
    const args = [KIND_CODE[kind], after, count, groupsFlag(options), left.bytes, left.groupIds];
    const [seqs, rows, aux, more] = (await runBuffer('after', tag(connectionId), ...args)) as [Buffer[], (Buffer | null)[], Buffer[][], number];
    const resources: NumberedResource[] = [];
    const later: NumberedResource[] = [];
    rows.forEach((row, i) => {
      const resource = parseRawRow(kind, row, aux[i] ?? []);
      if (resource && options?.groups === false) delete resource.groups;
      if (resource) resources.push({ ...resource, seq: Number(seqs[i]!.toString()) });
      if (resource && kind === 'User' && aux[i]?.length === 1) later.push(resources.at(-1)!);
    });
    await fillGroups(connectionId, later);
    const last = seqs.at(-1);
    const next = Number(more) === 1 && last ? Number(last.toString()) : null;
    if (kind !== 'Group' || options?.members === false) return { resources, next };
    // Groups with their members (a group deleted meanwhile drops out), as many as the budget allows.
    const kept = withinMembersBudget(resources, options?.membersUpTo);
    const seqOf = new Map(kept.map((r) => [r.id, r.seq]));
    const full = await allWithMembers(connectionId, kept, options?.membersUpTo);
    return { resources: full.map((g) => ({ ...g, seq: seqOf.get(g.id)! })), next: kept.length < resources.length ? kept.at(-1)!.seq : next };
  }

  /**
   * Whether a page read in parts (listAfter, pickUsersAfter) takes `resource` within what is `left` of its
   * row bytes and group ids (the page's first always), and if so counts it off.
   */
  function takeWithin(left: { bytes: number; groupIds: number }, resource: StoredResource, first: boolean): boolean {
    const bytes = resource.json.length;
    const groupIds = (resource.groups?.length ?? 0) * GROUP_ID_BYTES;
    if (!first && (bytes > left.bytes || groupIds > left.groupIds)) return false;
    left.bytes -= bytes;
    left.groupIds -= groupIds;
    return true;
  }

  return {
    methods: {
      async getUsage(connectionId) {
        assertStoreId('connectionId', connectionId);
        const [users, groups, bytes] = (await run('usage', tag(connectionId))) as [number, number, string];
        return { users: Number(users), groups: Number(groups), bytes: Number(bytes) };
      },

      async getResource(connectionId, kind, id, options) {
        assertStoreId('connectionId', connectionId);
        assertResourceKind(kind);
        if (!isValidStoreId(id)) return null;
        const reply = (await run('get', tag(connectionId), KIND_CODE[kind], id)) as unknown[];
        if (reply.length === 0) return null;
        const resource = parseResource(kind, reply);
        return kind === 'Group' && options?.members !== false ? ((await allWithMembers(connectionId, [resource], options?.membersUpTo))[0] ?? null) : resource;
      },

      async readSessionUser(connectionId, userId, { knownVersion, namedBytes }) {
        assertStoreId('connectionId', connectionId);
        if (!isValidStoreId(userId)) return null;
        const reply = (await run('sessionUser', tag(connectionId), userId, knownVersion === null ? '' : String(knownVersion), String(namedBytes))) as
          [] | [string, string, '0' | '1', string[], string[]];
        if (reply.length === 0) return null;
        const [version, json, sent, named, moreGroupIds] = reply;
        return { version: Number(version), json: sent === '1' ? json : null, groups: membershipsOf(named), moreGroupIds };
      },

      async listAfter(connectionId, kind, after, count, options) {
        assertStoreId('connectionId', connectionId);
        assertResourceKind(kind);
        assertCursorPaging(after, count);
        // Groups with their members are one read of at most ROWS_PER_SCRIPT, held to the members budget.
        if (kind === 'Group' && options?.members !== false) return afterOnce(connectionId, kind, after, Math.min(count, ROWS_PER_SCRIPT), options);
        // Others: scripts of at most ROWS_PER_SCRIPT rows until the page is full, the page as a whole within
        // PAGE_READ_BYTES of rows and GROUP_IDS_PER_PAGE of memberships (each script is given what is left, and
        // a later one's rows past it are dropped: only the page's first resource may pass them).
        const resources: NumberedResource[] = [];
        const left = { bytes: PAGE_READ_BYTES, groupIds: GROUP_IDS_PER_PAGE };
        for (let from = after; ;) {
          const asked = Math.min(count - resources.length, ROWS_PER_SCRIPT);
          const page = await afterOnce(connectionId, kind, from, asked, options, left);
          for (const resource of page.resources) {
            if (!takeWithin(left, resource, resources.length === 0)) return { resources, next: resources.at(-1)!.seq };
            resources.push(resource);
          }
          // A script that ended early (its budget passed) ends the page there.
          if (page.next === null || resources.length >= count || page.resources.length < asked) return { resources, next: page.next };
          if (left.bytes <= 0 || left.groupIds <= 0) return { resources, next: page.next };
          from = page.next;
        }
      },

      async pickUsersAfter(connectionId, after, count, wanted, options) {
        assertStoreId('connectionId', connectionId);
        assertCursorPaging(after, count);
        const namesWanted: ((seq: number) => boolean) | null = options?.userNames === true ? () => true : options?.userNames || null;
        const flat = (await run('positionsAfter', tag(connectionId), after, count)) as string[]; // (id, seq) pairs
        let seqs: number[] = [];
        let ids: string[] = [];
        for (let i = 0; i + 1 < flat.length && seqs.length < count; i += 2) {
          ids.push(flat[i]!);
          seqs.push(Number(flat[i + 1]));
        }
        let more = flat.length > 2 * count;
        let userNames: string[] = [];
        let last = seqs.at(-1); // where the next page starts, though this page's last users were deleted since
        if (namesWanted) {
          const read = await userNamesAt(connectionId, seqs, namesWanted);
          if (read.end < seqs.length) [seqs, ids, more] = [seqs.slice(0, read.end), ids.slice(0, read.end), true];
          last = seqs.at(-1);
          // Users deleted since their positions were read are left out of the page.
          const kept = (_: unknown, i: number) => !read.gone.has(i);
          [seqs, ids, userNames] = [seqs.filter(kept), ids.filter(kept), read.names.slice(0, read.end).filter(kept)];
        }
        const picked = seqs.flatMap((seq, i) => (wanted(seq) ? [i] : []));
        const users: NumberedResource[] = [];
        // As listAfter: scripts of ROWS_PER_SCRIPT rows, the page within PAGE_READ_BYTES and GROUP_IDS_PER_PAGE as
        // a whole; where the budget ends it, the page ends at the last picked user it held.
        const left = { bytes: PAGE_READ_BYTES, groupIds: GROUP_IDS_PER_PAGE };
        const named = (page: PickedPage): PickedPage => (namesWanted ? { ...page, userNames: userNames.slice(0, page.seqs.length) } : page);
        const endAfter = (i: number): PickedPage => named({ seqs: seqs.slice(0, i + 1), users, next: seqs[i]! });
        for (let from = 0; from < picked.length; from += ROWS_PER_SCRIPT) {
          const part = picked.slice(from, from + ROWS_PER_SCRIPT);
          const args = [groupsFlag(options), left.bytes, left.groupIds, ...part.flatMap((i) => [seqs[i]!, ids[i]!])];
          const [rows, aux] = (await runBuffer('usersAt', tag(connectionId), ...args)) as [(Buffer | null)[], Buffer[][]];
          const read = rows.map((row, j) => {
            const user = parseRawRow('User', row, aux[j] ?? []);
            if (user && options?.groups === false) delete user.groups;
            return user;
          });
          await fillGroups(
            connectionId,
            read.filter((user, j): user is StoredResource => user !== null && aux[j]?.length === 1),
          );
          for (const [j, user] of read.entries()) {
            if (!user) continue;
            if (!takeWithin(left, user, users.length === 0)) return endAfter(picked[from + j - 1]!);
            users.push({ ...user, seq: seqs[part[j]!]! });
          }
          const last = from + read.length - 1;
          if (last < picked.length - 1 && (read.length < part.length || left.bytes <= 0 || left.groupIds <= 0)) return endAfter(picked[last]!);
        }
        return named({ seqs, users, next: more && last !== undefined ? last : null });
      },

      async findByIndex(connectionId, kind, attribute, value, options) {
        assertStoreId('connectionId', connectionId);
        assertResourceKind(kind);
        assertIndexAttribute(attribute);
        assertIndexValue(value);
        const withoutGroups = kind === 'User' && options?.groups === false;
        const reply = (await run('find', tag(connectionId), KIND_CODE[kind], attribute, value, withoutGroups ? '0' : '1').catch((error: unknown) => {
          throw crowdedValueOf(error) ?? error;
        })) as unknown[][];
        const found = await parseFound(connectionId, kind, reply, { source: 'i', attribute, value }, withoutGroups);
        return kind === 'Group' && options?.members !== false ? allWithMembers(connectionId, found, options?.membersUpTo) : found;
      },

      async findGroupsWithMember(connectionId, value, options) {
        assertStoreId('connectionId', connectionId);
        if (typeof value !== 'string') throw new TypeError('member value must be a string');
        // ROWS_PER_SCRIPT groups per script (FIND_GROUPS_WITH_MEMBER), in creation order, each after the last.
        const rows: unknown[][] = [];
        for (let after = '0'; ;) {
          const [last, slice] = (await run('groupsWith', tag(connectionId), value, after)) as [string, unknown[][]];
          rows.push(...slice);
          if (last === '') break;
          after = String(last);
        }
        const found = await parseFound(connectionId, 'Group', rows, { source: 'm', attribute: '', value });
        return options?.members !== false ? allWithMembers(connectionId, found, options?.membersUpTo) : found;
      },

      async listPage(connectionId, kind, offset, count, options) {
        assertStoreId('connectionId', connectionId);
        assertResourceKind(kind);
        assertPaging(offset, count);
        assertRowBytes(options);
        const reply = (await runBuffer('page', tag(connectionId), KIND_CODE[kind], offset, count, groupsFlag(options), options?.rowBytes ?? '')) as PageReply;
        return pageFrom(connectionId, kind, reply, options);
      },

      async listSorted(connectionId, kind, order, offset, count, options) {
        assertStoreId('connectionId', connectionId);
        assertResourceKind(kind);
        assertSortOrder(order);
        assertPaging(offset, count);
        assertRowBytes(options);
        const args = [KIND_CODE[kind], order.attribute ?? '', order.descending ? '1' : '0', offset, count, groupsFlag(options), options?.rowBytes ?? ''];
        const reply = (await runBuffer('sorted', tag(connectionId), ...args)) as PageReply;
        return Number(reply[0]) === -1 ? null : pageFrom(connectionId, kind, reply, options);
      },

      async sortBacklog(connectionId, kind, count) {
        assertStoreId('connectionId', connectionId);
        assertResourceKind(kind);
        assertPaging(0, count);
        const [done, through, rows] = (await runBuffer('backlog', tag(connectionId), KIND_CODE[kind], count)) as [number, number, Buffer[]];
        const resources = rows.map((row) => parseRawRow(kind, row, [])).filter((r): r is StoredResource => r !== null);
        return { done: Number(done) === 1, through: Number(through), resources };
      },

      async fillSortIndex(connectionId, kind, through, fills) {
        assertStoreId('connectionId', connectionId);
        assertResourceKind(kind);
        if (!Number.isSafeInteger(through) || through < 0) throw new TypeError('through must be a non-negative integer');
        const args: (string | number)[] = [KIND_CODE[kind], through, fills.length];
        for (const fill of fills) {
          assertStoreId('resource id', fill.id);
          if (!Number.isSafeInteger(fill.version)) throw new TypeError('version must be an integer');
          args.push(fill.id, fill.version, ...sortArgs(normalizeSortKeys(fill.sortKeys)));
        }
        return String(await run('fill', tag(connectionId), ...args)) as 'done' | 'more' | 'retry';
      },
    },
    parseFound,
    fillGroups,
  };
}
