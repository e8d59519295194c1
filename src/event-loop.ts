/**
 * Sharing the event loop with every other tenant: long work is cut into phases or slices with a yield
 * between them, so no single request holds the loop for long (docs/limits.md §Measured).
 */

/** Lets every other ready callback run before continuing. */
export const yieldToEventLoop = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Group member lists longer than this are handled in phases (parse, shape check, normalise, check, write,
 * render) with a yield between them, so no phase holds the loop for the whole list's work.
 */
export const PHASED_MEMBERS = 1_000;

/** Request bodies larger than this yield once after parsing. */
export const PHASED_BODY_BYTES = 64 * 1024;

/** Yields when a write or read carries a member list long enough to matter. */
export async function yieldForMembers(members: readonly unknown[] | undefined): Promise<void> {
  if (members !== undefined && members.length > PHASED_MEMBERS) await yieldToEventLoop();
}
