/**
 * The users this instance created, read or wrote last, each as stored at a version: where a PUT or PATCH
 * starts instead of reading the store first, which saves it a round trip (docs/round-trips.md §Writes).
 *
 * A copy here is a guess, never a source of truth: the store writes only if the user is still at the
 * copy's version (compare-and-set), and every version change is a new version, so a write that succeeds
 * started from exactly what was stored. Any other outcome started from a copy (another instance or request
 * changed the user, an If-Match that does not match, a PATCH that would change nothing, a validation error)
 * is decided again from a fresh read. A stale copy costs one more round trip; it never decides an answer.
 *
 * Bounded by count and by characters of JSON and group memberships (src/lru.ts CACHE_LIMITS); groups are
 * not kept (their member lists are long, and a group PATCH reads the group without them anyway).
 */
import { CACHE_LIMITS, Lru } from '../lru.js';
import type { StoredResource } from '../store/store.js';

export class RecentUsers {
  readonly #users: Lru<string, StoredResource>;

  constructor(capacity: number = CACHE_LIMITS.recentUsers, maxChars: number = CACHE_LIMITS.recentUsersChars) {
    this.#users = new Lru(capacity, { maxWeight: maxChars, weigh: weightOf });
  }

  /** The last copy of the user this instance saw; undefined when it has none. */
  get(connectionId: string, id: string): StoredResource | undefined {
    return this.#users.get(keyOf(connectionId, id));
  }

  /** Keeps `user` (as the store holds it at `user.version`) as the newest copy. Groups are ignored. */
  remember(connectionId: string, user: StoredResource): void {
    if (user.kind !== 'User') return;
    this.#users.set(keyOf(connectionId, user.id), user);
  }

  forget(connectionId: string, id: string): void {
    this.#users.delete(keyOf(connectionId, id));
  }

  get size(): number {
    return this.#users.size;
  }
}

/** What a copy holds: its JSON, and the groups it is listed in (a user may be in thousands). */
function weightOf(user: StoredResource): number {
  let weight = user.json.length;
  for (const group of user.groups ?? []) weight += 16 + group.value.length + (group.display?.length ?? 0);
  return weight;
}

// Connection ids are store ids (assertStoreId: no NUL), so the separator cannot be forged.
const keyOf = (connectionId: string, id: string) => `${connectionId}\u0000${id}`;
