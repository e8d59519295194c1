/**
 * The login guard's reads and writes on Redis: the users a login matches (one or many lookups a script),
 * and the lookup, decision and SSO user record in one script where they share a Cluster slot
 * (docs/round-trips.md §Login).
 */
import { refusesWritesOnly } from './unavailable.js';
import { parseRawRow, parseResource } from './redis-codec.js';
import type { RedisContext } from './redis-context.js';
import type { RedisSso } from './redis-sso.js';
import type { RedisReads } from './redis-reads.js';
import { seenScore } from '../seen-order.js';
import { yieldForResource } from '../event-loop.js';
import { checkSsoUser } from './sso-records.js';
import { type LoginLookup, type LoginOutcome, type NumberedLoginLookup, type NumberedResource, type Store, type StoredResource } from './store.js';
import { assertIndexAttribute, assertIndexValue, assertLookups, assertStoreId } from './store-checks.js';
import { inactiveHolder, recordLoginInSteps } from './login-outcome.js';
import { LOGIN_BATCH } from './read-budgets.js';
import { PROJECTED_HOLDER } from './redis-login-scripts.js';

/**
 * FIND_USERS_FOR_LOGIN_BATCH's reply, read as bytes: seqs, rows, groups (positions and counts as integers), refs,
 * tombstones, deferred, answered, oversized, projected rows.
 */
type BatchReply = [Buffer, Buffer[], (Buffer | number)[], Buffer, Buffer, Buffer, number, Buffer, Buffer];

/** The activity attribute of findUsersForLogin's users (recordLogin is told its attempt's). */
const LOGIN_ACTIVITY = 'active';

/** The outcome fields recordLogin sends for the script to fill in, and how checkSsoUser's JSON ends with them. */
const UNDECIDED: LoginOutcome = { lastOutcome: 'admitted', lastReason: null, lastScimUserId: null };
const UNDECIDED_SUFFIX = ',"lastOutcome":"admitted","lastReason":null,"lastScimUserId":null}';

/** What a login lookup of a crowded value answers (src/store/crowded-values.ts): nobody read. */
const crowdedLookup = (): LoginLookup & NumberedLoginLookup => ({ users: [], deletedMatch: false, crowded: true });

export type RedisLoginMethods = Pick<Store, 'findUsersForLogin' | 'findUsersForLoginBatch' | 'recordLogin'>;

/** What the login methods are told by the store's options. */
export interface RedisLoginOptions {
  retention: number;
  maxSsoUsersPerCustomer: number;
  maxSsoUserBytesPerCustomer: number;
}

export function redisLogins(
  ctx: RedisContext,
  options: RedisLoginOptions,
  reads: Pick<RedisReads, 'parseFound' | 'fillGroups'>,
  ssoPart: RedisSso,
): RedisLoginMethods {
  const { run, runBuffer, tag, now } = ctx;
  const { retention, maxSsoUsersPerCustomer, maxSsoUserBytesPerCustomer } = options;
  const { parseFound, fillGroups } = reads;
  const cluster = (ctx.client as { isCluster?: boolean }).isCluster === true;

  /**
   * What a login's lookup found, as its script leaves it (loginHolders in redis-login-scripts.ts): the groups of the
   * one active holder read, nobody else's. Holders the script deferred (rows past its byte budget) are read
   * without their groups too, so when the one active holder is among them its groups are read here. When the
   * script read someone's groups (an admitted login's usual case), no other holder can be the only active one.
   */
  async function loginHolders(
    connectionId: string,
    rows: unknown[][],
    lookup: { attribute: string; value: string },
    activity: string,
  ): Promise<Pick<LoginLookup, 'users' | 'projected'>> {
    // Large users come as their login projection (loginFound in redis-login-scripts.ts), never deferred.
    const projected = new Set(rows.filter((row) => row[4] === PROJECTED_HOLDER).map((row) => String(row[0])));
    const users = await parseFound(connectionId, 'User', rows, { source: 'i', ...lookup }, true);
    const found = projected.size > 0 ? { users, projected } : { users };
    if (users.length === 0 || users.some((user) => user.groups !== undefined)) return found;
    // Each holder parsed in a turn of its own when large (the script left them to us past LOGIN_DECODE_BYTES).
    const active: StoredResource[] = [];
    for (const user of users) {
      try {
        if (!inactiveHolder(user, activity)) active.push(user);
      } catch {
        // not JSON (written by hand): the caller decides without it
      }
      await yieldForResource(user);
    }
    if (active.length === 1 && active[0]!.groups === undefined) await fillGroups(connectionId, active);
    return found;
  }

  const methods: RedisLoginMethods = {
    async findUsersForLogin(connectionId, attribute, value) {
      assertStoreId('connectionId', connectionId);
      assertIndexAttribute(attribute);
      assertIndexValue(value);
      const [users, gone, crowded] = (await run('login', tag(connectionId), attribute, value, now(), retention, LOGIN_ACTIVITY)) as [
        unknown[][],
        number,
        number,
      ];
      if (Number(crowded) === 1) return crowdedLookup();
      return { ...(await loginHolders(connectionId, users, { attribute, value }, LOGIN_ACTIVITY)), deletedMatch: Number(gone) === 1 };
    },

    async findUsersForLoginBatch(connectionId, lookups, options) {
      assertStoreId('connectionId', connectionId);
      assertLookups(lookups);
      const groupsFlag = options?.groups === false ? '0' : '1';
      const projecting = options?.projections === true;
      // Scripts of at most LOGIN_BATCH lookups, sent together (one round trip), so that logins are not held
      // up behind one long script. Each script takes its lookups grouped by attribute.
      const chunkOf = (indexes: number[]) => {
        const byAttribute = new Map<string, number[]>();
        for (const i of indexes) {
          const group = byAttribute.get(lookups[i]!.attribute);
          if (group) group.push(i);
          else byAttribute.set(lookups[i]!.attribute, [i]);
        }
        const args: (string | number)[] = [now(), retention, groupsFlag, projecting ? '1' : '0'];
        for (const [attribute, at] of byAttribute) args.push(attribute, at.length, ...at.map((i) => lookups[i]!.value));
        return { at: [...byAttribute.values()].flat(), args };
      };
      let chunks: { at: number[]; args: (string | number)[] }[] = [];
      for (let from = 0; from < lookups.length; from += LOGIN_BATCH) {
        chunks.push(chunkOf(Array.from({ length: Math.min(LOGIN_BATCH, lookups.length - from) }, (_, j) => from + j)));
      }
      const answers: NumberedLoginLookup[] = new Array(lookups.length);
      const byId = new Map<string, NumberedResource>(); // one object per user, across scripts too
      // The user objects made of a login projection: an answer lists those it holds, whichever script made them.
      const projections = new WeakSet<NumberedResource>();
      const answerOf = (users: NumberedResource[], deletedMatch: boolean): NumberedLoginLookup => {
        const projected = users.filter((user) => projections.has(user)).map((user) => user.id);
        return projected.length > 0 ? { users, deletedMatch, projected: new Set(projected) } : { users, deletedMatch };
      };
      const deferred: NumberedResource[] = []; // users whose groups a script left out (fillGroups)
      const heavy: { lookup: number; seqs: string[] }[] = []; // first lookups too heavy for one script
      const retried = new Set<number>(); // heavy lookups whose holders all vanished, looked up again once
      /** Takes in one script's reply for the lookups `at` (in the order sent); returns the lookups it left. */
      const takeReply = ([seqs, rows, groups, refs, gone, later, answered, oversized, projectedRows]: BatchReply, at: number[]): number[] => {
        if (Number(answered) === 0) {
          heavy.push({ lookup: at[0]!, seqs: oversized.toString().split(' ') });
          return at.slice(1);
        }
        const aux = new Map<number, Buffer[]>();
        for (let i = 0; i < groups.length; i += 2 + 2 * Number(groups[i + 1])) {
          aux.set(Number(groups[i]), groups.slice(i + 2, i + 2 + 2 * Number(groups[i + 1])) as Buffer[]);
        }
        const seq = seqs.toString().split(' ');
        const projectedAt = new Set(
          projectedRows
            .toString()
            .split(' ')
            .filter((n) => n !== '')
            .map(Number),
        );
        const users = rows.map((row, i) => {
          const user = parseRawRow('User', row, aux.get(i + 1) ?? []) as NumberedResource;
          if (groupsFlag === '0') delete user.groups;
          user.seq = Number(seq[i]);
          if (projectedAt.has(i + 1)) projections.add(user);
          const first = byId.get(user.id) ?? user;
          byId.set(user.id, first);
          return first;
        });
        for (const n of later.toString().split(' ')) if (n !== '') deferred.push(users[Number(n) - 1]!);
        const found = refs.toString().split(',');
        const buried = gone.toString();
        const done = Number(answered);
        at.slice(0, done).forEach((i, p) => {
          if (buried[p] === 'c') {
            answers[i] = crowdedLookup();
            return;
          }
          const ref = found[p]!;
          const positions = ref === '' ? [] : ref.split(' ').map(Number);
          answers[i] = answerOf(
            positions.map((n) => users[n - 1]!),
            buried[p] === '1',
          );
        });
        return at.slice(done);
      };
      /** A lookup whose holders pass PAGE_READ_BYTES together: each holder read by a script of its own. */
      const readHeavy = async ({ lookup, seqs }: { lookup: number; seqs: string[] }) => {
        const replies = (await Promise.all(seqs.map((seq) => run('userBySeq', tag(connectionId), seq, groupsFlag)))) as unknown[][];
        const users = replies.flatMap((reply, i) => {
          if (reply.length === 0) return []; // deleted since the batch script
          const user = parseResource('User', reply) as NumberedResource;
          user.seq = Number(seqs[i]);
          const first = byId.get(user.id) ?? user;
          byId.set(user.id, first);
          return [first];
        });
        // Read whole here, but a user an earlier script of the batch gave as its projection is that object.
        if (users.length > 0) answers[lookup] = answerOf(users, false);
        // All of them deleted meanwhile: the lookup goes again (another may hold the value now), once.
        else if (!retried.has(lookup)) retried.add(lookup);
        else {
          const again = await methods.findUsersForLogin(connectionId, lookups[lookup]!.attribute, lookups[lookup]!.value);
          answers[lookup] = again.crowded ? crowdedLookup() : { users: [], deletedMatch: again.deletedMatch };
        }
      };
      // A script answers its lookups up to PAGE_READ_BYTES of rows (at least one, or a first one's holders
      // only): those it left go again.
      while (chunks.length > 0) {
        const replies = await Promise.all(chunks.map(({ args }) => runBuffer('loginBatch', tag(connectionId), ...args) as Promise<BatchReply>));
        chunks = replies.flatMap((reply, c) => {
          const left = takeReply(reply, chunks[c]!.at);
          return left.length > 0 ? [chunkOf(left)] : [];
        });
        const read = heavy.splice(0);
        await Promise.all(read.map(readHeavy));
        const again = read.filter(({ lookup }) => answers[lookup] === undefined).map(({ lookup }) => lookup);
        if (again.length > 0) chunks.push(chunkOf(again));
      }
      await fillGroups(connectionId, [...new Set(deferred)]);
      return answers;
    },

    async recordLogin(customerId, attempt) {
      // On a Cluster the SSO user hash ({s:<customerId>}) and the connection ({c:<id>}) are in different
      // slots: lookup and record are two round trips there (docs/round-trips.md §Login).
      if (cluster || attempt.connectionId === null)
        return recordLoginInSteps({ findUsersForLogin: methods.findUsersForLogin, recordSsoUser: ssoPart.methods.recordSsoUser }, customerId, attempt);
      assertStoreId('customerId', customerId);
      assertStoreId('connectionId', attempt.connectionId);
      assertIndexAttribute(attempt.inactiveWhenFalse);
      const { lookup } = attempt;
      if (lookup) {
        assertIndexAttribute(lookup.attribute);
        assertIndexValue(lookup.value);
      }
      const record = checkSsoUser({ ...attempt.user, ...UNDECIDED });
      if (!record.json.endsWith(UNDECIDED_SUFFIX)) throw new Error('unexpected SSO user record layout');
      const json = `${record.json.slice(0, -UNDECIDED_SUFFIX.length)}}`;
      const args = [lookup ? '1' : '0', lookup?.attribute ?? '', lookup?.value ?? '', now(), retention, attempt.inactiveWhenFalse];
      const keys = [tag(attempt.connectionId), ssoPart.ssoKey(customerId), ssoPart.seenKey(customerId), ssoPart.ssoBytesKey(customerId)];
      const score = String(seenScore(record.lastSeenAt));
      let reply: [unknown[][], number, number, string, string, string, number];
      try {
        reply = (await run(
          'loginRecord',
          ...keys,
          ...args,
          record.subject,
          record.firstSeenAt,
          json,
          score,
          maxSsoUsersPerCustomer,
          maxSsoUserBytesPerCustomer,
        )) as typeof reply;
      } catch (error) {
        // Redis full (noeviction) or waiting for replicas refuses the record, not the lookup: a login is
        // decided on what it reads, and only its record is lost (a replica's READONLY still refuses it).
        if (!refusesWritesOnly(error)) throw error;
        const found = lookup ? await methods.findUsersForLogin(attempt.connectionId, lookup.attribute, lookup.value) : { users: [], deletedMatch: false };
        return { found, recorded: null, recordRefused: true };
      }
      const [users, gone, done, outcome, reason, id, crowded] = reply;
      const found: LoginLookup =
        Number(crowded) === 1
          ? crowdedLookup()
          : {
              ...(lookup ? await loginHolders(attempt.connectionId, users, lookup, attempt.inactiveWhenFalse) : { users: [] }),
              deletedMatch: Number(gone) === 1,
            };
      if (Number(done) !== 1) return { found, recorded: null };
      const recorded: LoginOutcome = {
        lastOutcome: outcome === 'admitted' ? 'admitted' : 'refused',
        lastReason: reason === '' ? null : reason,
        lastScimUserId: id === '' ? null : id,
      };
      return { found, recorded };
    },
  };
  return methods;
}
