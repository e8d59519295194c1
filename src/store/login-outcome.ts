/**
 * What a store records of a login (Store.recordLogin): the outcome the guard's rule gives for the users a
 * lookup found, the activity test it reads of each, and the same in steps for a store whose one script
 * could not decide.
 */
import { refusesWritesOnly } from './unavailable.js';
import { yieldForResource } from '../event-loop.js';
import type { LoginAttempt, LoginLookup, LoginOutcome, RecordedLogin, Store, StoredResource } from './store.js';
import { assertIndexAttribute, assertStoreId } from './store-checks.js';

/**
 * The outcome recordLogin records, from what it found: the rule of src/match/decide.ts, restated here
 * because the store may not depend on the guard (the guard checks that the two agree, and records again
 * if they ever do not). No connection: admitted. A crowded value (LoginLookup.crowded): `ambiguous`. Among the users found, those whose activity attribute is
 * not `false` are active: two or more active, refused `ambiguous`; one, admitted as that user; none active
 * but some found, refused `deactivated` as the last found (most recently created); none found, refused
 * `deleted` when a deleted user held the value, else `not_provisioned`. The Redis store's Lua mirrors this
 * (LOGIN_AND_RECORD in src/store/redis-login-scripts.ts).
 */
export function loginOutcome(
  hasConnection: boolean,
  users: { id: string; inactive: boolean }[],
  deletedMatch: boolean,
  lookupAttribute: string | null,
  crowded = false,
): LoginOutcome {
  if (!hasConnection) return { lastOutcome: 'admitted', lastReason: null, lastScimUserId: null };
  if (crowded) return { lastOutcome: 'refused', lastReason: 'ambiguous', lastScimUserId: null };
  const active = users.filter((u) => !u.inactive);
  // The local part of a userName matches different people: any two are ambiguous (matchesDistinctPeople).
  if ((lookupAttribute === 'userNameLocal' ? users : active).length > 1) return { lastOutcome: 'refused', lastReason: 'ambiguous', lastScimUserId: null };
  if (active.length === 1) return { lastOutcome: 'admitted', lastReason: null, lastScimUserId: active[0]!.id };
  const latest = users.at(-1);
  if (latest) return { lastOutcome: 'refused', lastReason: 'deactivated', lastScimUserId: latest.id };
  return { lastOutcome: 'refused', lastReason: deletedMatch ? 'deleted' : 'not_provisioned', lastScimUserId: null };
}

/** What a login reads of a stored user: a few top-level members of its JSON, not the rest. */
export interface LoginFacts {
  /** Its `userName` and `externalId` when they are strings, else null. */
  userName: string | null;
  externalId: string | null;
  /** The names of its top-level members whose value is `false` (a user is inactive when its activity attribute is one). */
  falseMembers: ReadonlySet<string>;
}

/**
 * Facts by the StoredResource object they were read from, with the JSON they were read from: the built-in
 * stores make new objects on each read, but a custom store may hand the same object back with new JSON.
 */
const factsRead = new WeakMap<StoredResource, { json: string; facts: LoginFacts }>();

/** The login facts of a resource already parsed (its top level: an object, else no members at all). */
export function loginFactsOfParsed(parsed: unknown): LoginFacts {
  const top = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  const falseMembers = new Set<string>();
  for (const name of Object.keys(top)) if (top[name] === false) falseMembers.add(name);
  const own = (name: string) => (Object.hasOwn(top, name) && typeof top[name] === 'string' ? top[name] : null);
  return { userName: own('userName'), externalId: own('externalId'), falseMembers };
}

/** Whether loginFactsOf has the facts of this object's JSON already (no parse needed). */
export const loginFactsKnown = (stored: StoredResource): boolean => factsRead.get(stored)?.json === stored.json;

/**
 * The login facts of a stored user, its JSON parsed once per StoredResource object: a login's holders (up to
 * 100 users of up to 1 MB each) are read for their activity by the store and for the match by the guard, and
 * both parsed each one whole, the guard keeping every parsed user until the decision: 2.1-2.6 s of CPU and
 * 166 MB of heap for one login over 100 holders of 0.5 MB on Redis (a probe, 2026-12-07). Only the facts
 * outlive the parse. Throws on text that is not JSON.
 */
export function loginFactsOf(stored: StoredResource): LoginFacts {
  const read = factsRead.get(stored);
  if (read?.json === stored.json) return read.facts;
  const facts = loginFactsOfParsed(JSON.parse(stored.json));
  factsRead.set(stored, { json: stored.json, facts });
  return facts;
}

/**
 * Users whose JSON is at least this long (UTF-16 units) are also stored as their login projection
 * (loginProjectionOf), which a login's lookup reads instead of them (LoginLookup.projected): a login's cost
 * then does not grow with the size of the users holding its value. Ordinary users (a few KB) are read whole:
 * their projection would save nothing and cost every write a parse and Redis a hash field.
 */
export const LOGIN_PROJECTION_CHARS = 16 * 1024;

/**
 * A user's login projection: the JSON of the top-level members a login reads (LoginFacts: `userName` and
 * `externalId` when strings, and every member whose value is `false`), so that loginFactsOf reads the same facts
 * from it as from the user. null for JSON shorter than LOGIN_PROJECTION_CHARS, and for text that is not a JSON
 * object (a login then reads the user whole). Parses the JSON: O(its size), on writes of large users only.
 */
export function loginProjectionOf(json: string): string | null {
  if (json.length < LOGIN_PROJECTION_CHARS) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null;
  const { userName, externalId, falseMembers } = loginFactsOfParsed(parsed);
  // Written out member by member: a name such as `__proto__` stays a plain member of the JSON.
  const members: string[] = [];
  if (userName !== null) members.push(`"userName":${JSON.stringify(userName)}`);
  if (externalId !== null) members.push(`"externalId":${JSON.stringify(externalId)}`);
  for (const name of falseMembers) members.push(`${JSON.stringify(name)}:false`);
  return `{${members.join(',')}}`;
}

/** Whether a stored user has `attribute: false` at its top level (recordLogin's activity test). Throws on text that is not JSON. */
export const inactiveHolder = (stored: StoredResource, attribute: string): boolean => loginFactsOf(stored).falseMembers.has(attribute);

/**
 * recordLogin in two steps on any store: findUsersForLogin, then recordSsoUser with the outcome
 * {@link loginOutcome} picks. The memory store's recordLogin (both steps in process), and the Redis store's
 * on a Cluster (two round trips: the SSO users and the connection are in different slots).
 */
export async function recordLoginInSteps(
  store: Pick<Store, 'findUsersForLogin' | 'recordSsoUser'>,
  customerId: string,
  attempt: LoginAttempt,
): Promise<RecordedLogin> {
  assertStoreId('customerId', customerId);
  assertIndexAttribute(attempt.inactiveWhenFalse);
  const { connectionId, lookup } = attempt;
  const found: LoginLookup =
    connectionId !== null && lookup !== null ? await store.findUsersForLogin(connectionId, lookup.attribute, lookup.value) : { users: [], deletedMatch: false };
  const users: { id: string; inactive: boolean }[] = [];
  try {
    // A large holder parsed in a turn of its own: 100 holders of 0.8 MB were seconds in one.
    for (const u of found.users) {
      users.push({ id: u.id, inactive: inactiveHolder(u, attempt.inactiveWhenFalse) });
      await yieldForResource(u);
    }
  } catch {
    return { found, recorded: null }; // not JSON (written by hand): the caller decides and records
  }
  const recorded = loginOutcome(connectionId !== null, users, found.deletedMatch, lookup?.attribute ?? null, found.crowded === true);
  try {
    await store.recordSsoUser(customerId, { ...attempt.user, ...recorded });
  } catch (error) {
    // Redis full or waiting for replicas: the lookup was read from current data, only the record is lost.
    if (refusesWritesOnly(error)) return { found, recorded: null, recordRefused: true };
    throw error;
  }
  return { found, recorded };
}
