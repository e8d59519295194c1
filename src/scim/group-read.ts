/** A group read as a response shows it: its members, if asked, all of one version of the group. */
import { scimErrors } from '../errors.js';
import type { StoredResource } from '../store/store.js';
import { readMemberItems, wantsMembers, type MemberItems } from './group-members.js';
import { MEMBER_READ_BYTES } from './heavy-work.js';
import type { Projection } from './projection.js';
import type { ResourceContext } from './resources.js';

/**
 * A group as a response shows it: read without members (O(1)) when the projection leaves them out, else
 * with its members read page by page (src/scim/group-members.ts), all of the group's version. A group that
 * changed while it was read is read again under its write lease (Store.leaseGroup), which holds its
 * writers back for the read: re-read while one-member PATCHes kept changing it, a 100,000-member group took
 * 13-19 s to read (up to 25 reads). `afterWrite`: the request wrote already, so its heavy-request slot is
 * taken if free but never refused for (src/scim/heavy-work.ts).
 */
export async function readGroup(
  ctx: ResourceContext,
  id: string,
  projection: Projection,
  baseUrl: string,
  afterWrite = false,
): Promise<{ stored: StoredResource; members?: MemberItems }> {
  const first = await readGroupOnce(ctx, id, projection, baseUrl, 1, afterWrite);
  if (first.consistent) return first.read;
  const lease = await ctx.store.leaseGroup(ctx.connectionId, id);
  try {
    return (await readGroupOnce(ctx, id, projection, baseUrl, 5, afterWrite)).read;
  } finally {
    await lease?.release();
  }
}

/** readGroup's read, its member pages restarted `attempts` times at most; `consistent`: all of one version. */
async function readGroupOnce(ctx: ResourceContext, id: string, projection: Projection, baseUrl: string, attempts: number, afterWrite: boolean) {
  const stored = await ctx.store.getResource(ctx.connectionId, 'Group', id, { members: false });
  if (!stored) throw scimErrors.notFound(`Group ${id} not found`);
  if (!wantsMembers(projection)) return { consistent: true, read: { stored } };
  ctx.heavy.charge((stored.memberCount ?? 0) * MEMBER_READ_BYTES, !afterWrite);
  const members = await readMemberItems(ctx.store, ctx.connectionId, id, baseUrl, projection, attempts, (bytes) => ctx.heavy.charge(bytes, !afterWrite));
  if (!members) throw scimErrors.notFound(`Group ${id} not found`);
  if (members.version === stored.version) return { consistent: true, read: { stored, members: members.items } };
  // Changed in between: answer with the older version (no later If-None-Match matches it).
  return { consistent: false, read: { stored: { ...stored, version: Math.min(stored.version, members.version) }, members: members.items } };
}
