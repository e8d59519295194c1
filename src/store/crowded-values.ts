/**
 * Crowded index values. A non-unique index value (an email, an `externalId`, the local part of a `userName`)
 * lists the resources holding it, and every lookup by the value reads them all. Past
 * `quota.maxResourcesPerValue` holders the value is *crowded*: the write that adds a holder still succeeds,
 * but its index entry lists that many at most and counts the rest, and a lookup by the value is refused
 * ({@link CrowdedValueError}; a login by it is `ambiguous`) instead of reading hundreds of users. A directory
 * that gives one placeholder address (`noemail@corp.example`) to hundreds of accounts provisions them all;
 * only a lookup by that address is refused, and it could not name one person anyway. When the holders it
 * counts are gone again (deleted, or given another value) the value is an ordinary one. docs/storage-limits.md.
 */

/** Thrown by a lookup (Store.findByIndex) of a crowded value: more hold it than the store lists for a value. */
export class CrowdedValueError extends Error {
  /** The index attribute looked up (`email`, `externalId`, `userNameLocal`). */
  readonly attribute: string;
  constructor(attribute: string) {
    super(`more resources hold this ${attribute} than quota.maxResourcesPerValue lets a lookup read`);
    this.name = 'CrowdedValueError';
    this.attribute = attribute;
  }
}

/**
 * The memory store's entry for one index value: the holders it lists (in the order they came) and how many
 * hold it unlisted. The Redis store keeps the same as `+<unlisted> <seq> <seq>...` (src/store/redis-lua-prelude.ts).
 */
export interface IndexHolders {
  ids: string[];
  unlisted: number;
}

/**
 * Adds holder `id` to `holders` (null: none yet): listed while fewer than `cap` are listed, else counted.
 * `cap` undefined: always listed. Returns the new entry (the old one is not changed). The store cannot tell
 * which holders it counts, so a value stays crowded until they are gone, even if fewer than `cap` hold it by
 * then; a write changing any indexed value of a resource removes and adds all its entries again (both
 * stores), so a counted holder written so is listed if there is room.
 */
export function withHolder(holders: IndexHolders | null, id: string, cap: number | undefined): IndexHolders {
  if (!holders) return { ids: [id], unlisted: 0 };
  if (holders.ids.includes(id)) return holders;
  if (cap !== undefined && holders.ids.length >= cap) return { ids: holders.ids, unlisted: holders.unlisted + 1 };
  return { ids: [...holders.ids, id], unlisted: holders.unlisted };
}

/**
 * Removes holder `id` from `holders`: from the list when listed, else from the unlisted count (the caller
 * knows `id` held the value: it is one of the resource's own entries). Null when nobody holds it any more.
 */
export function withoutHolder(holders: IndexHolders, id: string): IndexHolders | null {
  const at = holders.ids.indexOf(id);
  const next =
    at >= 0
      ? { ids: holders.ids.filter((other) => other !== id), unlisted: holders.unlisted }
      : { ids: holders.ids, unlisted: Math.max(0, holders.unlisted - 1) };
  return next.ids.length === 0 && next.unlisted === 0 ? null : next;
}

/** The start of the error a Redis lookup script replies for a crowded value: `CROWDED <attribute>`. */
export const CROWDED_REPLY = 'CROWDED';

/** The CrowdedValueError of a Redis lookup's error reply, or null for any other error. */
export function crowdedValueOf(error: unknown): CrowdedValueError | null {
  const match = error instanceof Error ? /^CROWDED (\S+)/.exec(error.message) : null;
  return match ? new CrowdedValueError(match[1]!) : null;
}
