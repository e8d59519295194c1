/**
 * Create, read, replace, patch and delete of one resource, written once for Users and Groups. Every write
 * is optimistic: read the version, compute the new resource in TypeScript, and let the store write it only
 * if the version is unchanged; on a lost race the whole read-compute-write is retried, so concurrent PATCHes
 * behave as if applied in some serial order. `If-Match` (RFC 7644 §3.14) turns a lost race into 412. A user's
 * PUT or PATCH starts from this instance's last copy of it when it has one (src/scim/recent-users.ts).
 */
import type { HeavyTicket } from './heavy-work.js';
import { randomUUID } from 'node:crypto';
import { fail, ok, ScimError, scimErrors, type Result } from '../errors.js';
import type { QuotaName, ReadOptions, ResourceWrite, Store, StoredMember, StoredResource, StoreQuota, WriteOutcome } from '../store/store.js';
import { planGroupPatch, type GroupPatchPlan } from './group-members.js';
import type { RecentUsers } from './recent-users.js';
import { membersOf } from './groups.js';
import { isActiveUser, settleActive } from './users.js';
import { PHASED_MEMBERS, yieldForMembers, yieldForResource } from '../event-loop.js';
import { holding } from '../store/group-lease.js';
import { leaseWaiters, waiterWeight } from './lease-waiters.js';
import { MAX_MEMBERS, MAX_RESOURCE_BYTES, SCAN_GROUP_MEMBERS } from './limits.js';
import { isObject, placeBareExtensionNames, type JsonObject } from './normalize.js';
import { applyPatchInSlices, parsePatchRequest, pathProblem, type PatchOperation } from './patch.js';
import { jsonEqual } from './patch-apply.js';
import { etagListMatches } from './render.js';
import { buildResource, buildResourcePhased, type ResourceSpec } from './resource-spec.js';
import { createdEvents, deletedEvents, updatedEvents } from './provisioning-events.js';

/** How many times a write that lost a race is recomputed before giving up with a retryable 503. */
const MAX_ATTEMPTS = 50;

/** A short random pause before retrying a lost race, growing with the attempt, so racers spread out. */
const backoff = (attempt: number) => new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(20, 1 + attempt * 2)));

export interface ResourceContext {
  store: Store;
  connectionId: string;
  spec: ResourceSpec;
  maxPatchOperations: number;
  /** The connection's quotas, checked atomically by the store on every create and growing update. */
  quota: StoreQuota;
  /** Whether writes append durable provisioning events (src/scim/provisioning-events.ts). */
  events: boolean;
  /** This instance's last copies of users, where their next PUT or PATCH starts. */
  recentUsers: RecentUsers;
  /** What this request has read so far, and the heavy-request slot it holds past a limit (src/scim/heavy-work.ts). */
  heavy: HeavyTicket;
  /** The bytes of the request's body (none: 0), which a write waiting for a group's lease holds (src/scim/lease-waiters.ts). */
  bodyBytes?: number;
}

const now = () => new Date().toISOString();

function notFound(ctx: ResourceContext, id: string): ScimError {
  return scimErrors.notFound(`${ctx.spec.kind} ${id} not found`);
}

function writeError(ctx: ResourceContext, outcome: Exclude<WriteOutcome, { ok: true }>, id: string): ScimError {
  switch (outcome.reason) {
    case 'uniqueness':
      return scimErrors.conflict(`${outcome.attribute} already exists`);
    case 'not_found':
      return notFound(ctx, id);
    case 'version_mismatch':
    case 'interrupted':
      return busy(ctx, id);
    case 'quota':
      if (outcome.quota === 'groupsPerMember') return tooManyGroups(outcome.limit, outcome.member);
      return quotaExceeded(outcome.quota, outcome.limit);
  }
}

/**
 * A write that kept losing races, or that may not wait for the group's lease (`why`, src/scim/lease-waiters.ts):
 * 503 with `Retry-After`, not 409. IdPs read every 409 as "uniqueness: the resource already exists" (RFC 7644
 * §3.3) and switch to matching or give up, while a 503 is retried.
 */
function busy(ctx: ResourceContext, id: string, why?: string): ScimError {
  const detail = `${ctx.spec.kind} ${id} is being changed concurrently${why === undefined ? '' : `, and ${why}`}; retry`;
  return new ScimError(503, detail, undefined, { 'Retry-After': '1' });
}

type ConnectionQuota = Exclude<QuotaName, 'groupsPerMember'>;

const QUOTA_WHAT: Record<ConnectionQuota, string> = { users: 'users', groups: 'groups', bytes: 'bytes of stored resources' };

/**
 * A write over a per-connection quota: 507 Insufficient Storage (RFC 4918 §11.5, the status WebDAV quotas
 * use, RFC 4331 §6) with the RFC 7644 §3.12 error body. Not 400 `tooMany`: RFC 7644 defines that for
 * filters yielding too many results, and a 4xx tells the IdP the request itself is wrong, so it would not
 * retry; the request is valid and succeeds once the operator raises the quota or the customer deletes.
 */
function quotaExceeded(quota: ConnectionQuota, limit: number): ScimError {
  return new ScimError(
    507,
    `this SCIM connection has reached its quota of ${limit} ${QUOTA_WHAT[quota]}; delete some or ask the application's operator to raise the quota`,
  );
}

/**
 * A group write that would put a member into more groups than `quota.maxGroupsPerMember` allows: 507 as for
 * the other quotas (the request is valid; the operator can raise the limit). Every read of a user derives its
 * groups, so the limit bounds what one user costs each read (docs/groups.md).
 */
function tooManyGroups(limit: number, member: string | undefined): ScimError {
  const who = member === undefined ? 'a member' : `member ${JSON.stringify(member.slice(0, 200))}`;
  return new ScimError(
    507,
    `${who} is already in ${limit} groups, the most this SCIM connection allows per member; remove it from some groups or ask the application's operator to raise quota.maxGroupsPerMember`,
  );
}

/** A write's preconditions (RFC 7644 §3.14, RFC 9110 §13.1): the request's `If-Match` and `If-None-Match`. */
export interface Preconditions {
  ifMatch?: string | undefined;
  ifNoneMatch?: string | undefined;
}

const given = (header: string | undefined): header is string => header !== undefined && header !== '';

/**
 * Whether the preconditions refuse a write on the resource at `version`: `If-Match` lists none of its ETags
 * (`*` matches any), or `If-None-Match` lists one (`*` matches any, so a PUT "only if absent" never
 * overwrites an existing resource).
 */
export function preconditionFails(conditions: Preconditions, version: number): boolean {
  const { ifMatch, ifNoneMatch } = conditions;
  return (given(ifMatch) && !etagListMatches(ifMatch, version)) || (given(ifNoneMatch) && etagListMatches(ifNoneMatch, version));
}

/**
 * Whether `If-Match` holds the write to the version it matched: it lists ETags and no `*`. `*` matches
 * whatever version is current (RFC 9110 §13.1.1), so a write that lost a race to another is retried as
 * without the header, never answered 412. `If-None-Match` pins nothing: after a lost race it is checked
 * again on the version then current.
 */
function pinsVersion({ ifMatch }: Preconditions): boolean {
  return given(ifMatch) && !ifMatch.split(',').some((tag) => tag.trim() === '*');
}

/**
 * The refusal of a write whose JSON passes MAX_RESOURCE_BYTES and is larger than what it replaces (`before`,
 * '' for a creation), or null. Measured in UTF-8 bytes only when the length could pass the bound.
 */
function storedSizeProblem(ctx: ResourceContext, json: string, before: string): ScimError | null {
  if (json.length * 3 <= MAX_RESOURCE_BYTES) return null;
  const bytes = Buffer.byteLength(json);
  if (bytes <= MAX_RESOURCE_BYTES || bytes <= Buffer.byteLength(before)) return null;
  return scimErrors.badRequest(
    'invalidValue',
    `the ${ctx.spec.kind} would be stored as ${bytes} bytes of JSON; at most ${MAX_RESOURCE_BYTES} are kept per resource`,
  );
}

const connectionGone = () => new ScimError(401, "the token's SCIM connection no longer exists", undefined, { 'WWW-Authenticate': 'Bearer realm="SCIM"' });

export const preconditionFailedError = (id: string) => new ScimError(412, `${id} is at a version the request's If-Match or If-None-Match refuses`);

export async function createResource(ctx: ResourceContext, body: unknown): Promise<Result<StoredResource>> {
  const timestamp = now();
  const placed = placeBareExtensionNames(ctx.spec.type, body);
  if (!placed.ok) return placed;
  const built = await buildResourcePhased(ctx.spec, placed.value, { id: randomUUID(), created: timestamp, lastModified: timestamp });
  if (!built.ok) return built;
  await yieldForMembers(Array.isArray(built.value.members) ? built.value.members : undefined);
  const write = ctx.spec.toWrite(ctx.spec.kind === 'User' ? settleActive(null, built.value) : built.value);
  const tooLarge = storedSizeProblem(ctx, write.json, '');
  if (tooLarge) return fail(tooLarge);
  if (ctx.events) write.events = createdEvents(write.kind);
  await yieldForMembers(write.members); // building a long member list and writing it are separate phases
  const outcome = await ctx.store.createResource(ctx.connectionId, write, ctx.quota);
  // A create finds nothing missing but the connection itself: deleted through another instance while this
  // one still trusted the token (scimTokenCacheMs). The token no longer opens anything.
  if (!outcome.ok && outcome.reason === 'not_found') return fail(connectionGone());
  if (!outcome.ok && outcome.reason === 'uniqueness' && outcome.attribute === 'id') {
    // The id is this request's own random one: only this write can have taken it. ioredis sends a command
    // again when the connection dropped before its reply (autoResendUnfulfilledCommands), so the write was
    // applied and its second run refused: the IdP got 409 for its own create and never learnt the id (an
    // audit of Redis deployments, 2026-12-07). Answer what was created.
    const created = await ctx.store.getResource(ctx.connectionId, write.kind, write.id);
    if (created) {
      ctx.recentUsers.remember(ctx.connectionId, created);
      return ok(created);
    }
  }
  if (!outcome.ok) return fail(writeError(ctx, outcome, write.id));
  // A new resource has a fresh random id, so no group can list it yet: what was written is what is stored.
  const stored: StoredResource = { id: write.id, kind: write.kind, json: write.json, version: outcome.version };
  if (write.members) stored.members = write.members;
  ctx.recentUsers.remember(ctx.connectionId, stored);
  return ok(stored);
}

export async function readResource(ctx: ResourceContext, id: string): Promise<Result<StoredResource>> {
  const stored = await ctx.store.getResource(ctx.connectionId, ctx.spec.kind, id);
  if (!stored) {
    ctx.recentUsers.forget(ctx.connectionId, id);
    return fail(notFound(ctx, id));
  }
  ctx.recentUsers.remember(ctx.connectionId, stored);
  return ok(stored);
}

/** A resource after an update. */
export interface Updated {
  stored: StoredResource;
  /**
   * A written user's `active` before and after, for the audit events that tell deactivation apart: read from
   * the objects in hand, not by parsing both versions' JSON again.
   */
  active?: { before: boolean; after: boolean };
}

/**
 * Runs a group write of `values` member values: past PHASED_MEMBERS (a write computed in phases, with yields
 * between them, then written by the store in several steps), holding the group's write lease (`work` gets
 * its token for the store write), else as is: one-member PATCHes of the same group would otherwise move the
 * version under it at every attempt. A lease not had in time is a 503, as a write that kept losing races;
 * so is one the request may not wait for, holding its body and the `carried` member values it parsed
 * (src/scim/lease-waiters.ts).
 */
async function withGroupLease<T>(
  ctx: ResourceContext,
  id: string,
  values: number,
  carried: number,
  work: (lease?: string) => Promise<Result<T>>,
): Promise<Result<T>> {
  if (ctx.spec.kind !== 'Group' || values <= PHASED_MEMBERS) return work();
  const lease = await leaseWaiters.wait(ctx.connectionId, waiterWeight(ctx.bodyBytes ?? 0, carried), () => ctx.store.leaseGroup(ctx.connectionId, id));
  if ('refused' in lease) return fail(busy(ctx, id, lease.refused));
  return holding(lease.waited, () => fail(busy(ctx, id)), work);
}

/**
 * The store's replace of `write` at `version`. A group write holding no lease waits in the store while
 * another write holds the group's (up to LEASE_WAIT_MS), holding its body and write: it is counted as a
 * lease waiter, and refused (503) when it may not wait.
 */
async function replaceStored(ctx: ResourceContext, write: ResourceWrite, version: number): Promise<WriteOutcome | ScimError> {
  const replace = () => ctx.store.replaceResource(ctx.connectionId, write, version, ctx.quota);
  if (write.kind !== 'Group' || write.lease !== undefined) return replace();
  const changes = write.memberChanges ? write.memberChanges.add.length + write.memberChanges.remove.length : 0;
  const counted = await leaseWaiters.wait(ctx.connectionId, waiterWeight(ctx.bodyBytes ?? 0, (write.members?.length ?? 0) + changes), replace);
  return 'waited' in counted ? counted.waited : busy(ctx, write.id, counted.refused);
}

/**
 * The shared read-compute-write loop of PUT and PATCH. `compute` returns the new resource, or null for "no
 * change"; `read`: how the current resource is read (a group PUT, which replaces the list, reads it without);
 * `lease`: the group's write lease the write holds (withGroupLease).
 */
async function updateResource(
  ctx: ResourceContext,
  id: string,
  conditions: Preconditions,
  compute: (current: JsonObject, stored: StoredResource) => Result<JsonObject | null> | Promise<Result<JsonObject | null>>,
  read?: ReadOptions,
  lease?: string,
): Promise<Result<Updated>> {
  const { recentUsers, connectionId } = ctx;
  // A copy is only a guess (src/scim/recent-users.ts): every outcome but a successful write is decided again.
  let copy = ctx.spec.kind === 'User' ? recentUsers.get(connectionId, id) : undefined;
  /** The last write sent: its JSON, the version it makes, and the resource before and after it. */
  let sent: { json: string; version: number; before: JsonObject; resource: JsonObject } | null = null;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const fromCopy = copy !== undefined;
    const stored = copy ?? (await ctx.store.getResource(connectionId, ctx.spec.kind, id, read));
    copy = undefined;
    if (!stored) {
      recentUsers.forget(connectionId, id);
      return fail(notFound(ctx, id));
    }
    if (preconditionFails(conditions, stored.version)) {
      if (fromCopy) continue;
      // This request's own write, applied by a first run whose reply was lost (ioredis sends a command again
      // after a reconnect, and its second run found the version moved: docs/redis-deployment.md). A user's
      // JSON is all of it; a group's leaves out its members, which another write the same millisecond may have
      // changed otherwise: a group is never taken for written so.
      if (sent && ctx.spec.kind === 'User' && stored.version === sent.version && stored.json === sent.json) {
        recentUsers.remember(connectionId, stored);
        return ok(updatedAs(ctx, stored, sent.before, sent.resource));
      }
      return fail(preconditionFailedError(id));
    }
    // Reading, parsing, computing, serialising and diffing a large resource (long JSON or member list) are
    // separate phases, with a yield between them.
    await yieldForResource(stored);
    const current = ctx.spec.fromStored(stored);
    await yieldForResource(stored);
    const next = await compute(current, stored);
    if (fromCopy && (!next.ok || next.value === null)) continue;
    if (!next.ok) return next;
    if (next.value === null) {
      recentUsers.remember(connectionId, stored);
      return ok({ stored });
    }
    await yieldForResource(stored);
    // As stored: a group without its members. A user's is `current`, which compute only reads (PATCH applies
    // its operations to a copy).
    const before = ctx.spec.kind === 'User' ? current : (JSON.parse(stored.json) as JsonObject);
    const resource = ctx.spec.kind === 'User' ? settleActive(before, next.value) : next.value;
    // What the kept `active` undid (`remove active`, `replace active ""`) may leave nothing changed: then
    // nothing is written, as for any PATCH or PUT that changes nothing. Compared in any key order:
    // settleActive puts `active` back before `meta`, not where it was.
    if (resource !== next.value && jsonEqual(withoutMeta(before), withoutMeta(resource))) {
      if (fromCopy) continue; // a copy never decides an answer: read the user and compute again
      recentUsers.remember(connectionId, stored);
      return ok({ stored });
    }
    const write = ctx.spec.toWrite(resource);
    // Deprovisioning is never refused for size: a user stored past the bound before it existed must still
    // be deactivated by its IdP (the write changes `active` alone, so it grows it by a byte at most).
    const overBound = storedSizeProblem(ctx, write.json, stored.json);
    const tooLarge = overBound && !onlyDeactivates(before, resource) ? overBound : null;
    if (tooLarge && fromCopy) continue; // a copy never decides an answer
    if (tooLarge) return fail(tooLarge);
    if (lease !== undefined) write.lease = lease;
    await yieldForResource(write);
    if (ctx.events) write.events = eventsOf(before, resource, write);
    await yieldForResource(write);
    sent = { json: write.json, version: stored.version + 1, before, resource };
    const outcome = await replaceStored(ctx, write, stored.version);
    if (outcome instanceof ScimError) return fail(outcome);
    if (outcome.ok) {
      // What was written is what is stored. A user's derived groups are the store's, as of this write: a group
      // renamed since `stored` was read (or copied) moved no version, so they may differ from its.
      const written: StoredResource = { id, kind: write.kind, json: write.json, version: outcome.version };
      if (write.members) written.members = write.members;
      const groups = outcome.groups ?? stored.groups;
      if (groups) written.groups = groups;
      recentUsers.remember(connectionId, written);
      return ok(updatedAs(ctx, written, before, resource));
    }
    recentUsers.forget(connectionId, id);
    // The store checks the version before anything else, so any other refusal is about the current user.
    if (outcome.reason !== 'version_mismatch') return fail(writeError(ctx, outcome, id));
    if (fromCopy) continue; // the copy was stale: read the user, with no pause (no race was lost)
    // Under If-Match the next read decides: 412, unless what it finds is this very write (sent below).
    if (pinsVersion(conditions)) continue;
    await backoff(attempt);
  }
  return fail(busy(ctx, id));
}

/** A written resource as an update answers it, with a user's activity before and after. */
function updatedAs(ctx: ResourceContext, stored: StoredResource, before: JsonObject, after: JsonObject): Updated {
  return ctx.spec.kind === 'User' ? { stored, active: { before: isActiveUser(before), after: isActiveUser(after) } } : { stored };
}

/** The server-owned parts of an existing resource. */
function ownedOf(current: JsonObject, id: string) {
  const meta = (current.meta ?? {}) as JsonObject;
  return { id, created: String(meta.created ?? now()), lastModified: now() };
}

/** PUT (RFC 7644 §3.5.1): the body replaces every client-writable attribute. */
export function replaceResource(ctx: ResourceContext, id: string, body: unknown, conditions: Preconditions = {}) {
  // A group's PUT replaces its whole member list: the current list is never needed (at 250,000 members,
  // building it as JSON held the event loop 80 ms).
  const read = ctx.spec.kind === 'Group' ? { members: false } : undefined;
  const placed = placeBareExtensionNames(ctx.spec.type, body);
  if (!placed.ok) return Promise.resolve(placed);
  const members = isObject(placed.value) ? placed.value.members : undefined;
  const values = Array.isArray(members) ? members.length : 0;
  return withGroupLease(ctx, id, values, values, (lease) =>
    updateResource(ctx, id, conditions, (current) => buildResourcePhased(ctx.spec, placed.value, ownedOf(current, id), current), read, lease),
  );
}

/**
 * PATCH (RFC 7644 §3.5.2): all operations apply, or none. Operations carrying many values (a long member
 * list) are parsed, planned and checked in phases with a yield between them (src/event-loop.ts).
 */
export async function patchResource(ctx: ResourceContext, id: string, body: unknown, conditions: Preconditions = {}): Promise<Result<Updated>> {
  const operations = parsePatchRequest(body, { maxOperations: ctx.maxPatchOperations });
  if (!operations.ok) return operations;
  const values = valuesCarried(operations.value);
  await yieldForMembers(values);
  if (ctx.spec.kind === 'Group') {
    // Member operations become member changes: the group is read and written without its member list.
    const plan = planGroupPatch(operations.value);
    await yieldForMembers(values);
    if (plan) return withGroupLease(ctx, id, values, values, (lease) => patchGroup(ctx, id, plan, conditions, lease));
    return patchWholeGroup(ctx, id, operations.value, conditions, values);
  }
  return patchInHand(ctx, id, operations.value, conditions);
}

/** The values the operations carry in arrays, at their top or one level down (`{"members": […]}`): O(operations + keys). */
function valuesCarried(operations: PatchOperation[]): number {
  let count = 0;
  for (const { value } of operations) {
    if (Array.isArray(value)) count += value.length;
    else if (isObject(value)) for (const inner of Object.values(value)) if (Array.isArray(inner)) count += inner.length;
  }
  return count;
}

/** A PATCH applied to the whole resource in hand (a group with its member list): read, apply, write. */
function patchInHand(ctx: ResourceContext, id: string, operations: PatchOperation[], conditions: Preconditions, lease?: string) {
  return updateResource(
    ctx,
    id,
    conditions,
    async (current, stored) => {
      const patched = await applyPatchInSlices(ctx.spec.type, current, operations, ctx.spec.kind === 'User' ? ctx.spec.fromStored(stored) : undefined);
      if (!patched.ok) return patched;
      await yieldForResource(stored); // applying, rebuilding and comparing a large resource: three phases
      const rebuilt = buildResource(ctx.spec, patched.value, ownedOf(current, id), current);
      if (!rebuilt.ok) return rebuilt;
      await yieldForResource(stored);
      return ok(sameContent(current, rebuilt.value) ? null : rebuilt.value);
    },
    undefined,
    lease,
  );
}

/**
 * A group PATCH that needs the member list in hand (a member filter other than `value eq`, a member's
 * `display`, …). Its paths are checked before anything is read, and a group of more than
 * SCAN_GROUP_MEMBERS members is refused (400 `tooMany`) after an O(1) read, before its list is loaded: the
 * member operations IdPs send never need it (docs/groups.md).
 */
async function patchWholeGroup(
  ctx: ResourceContext,
  id: string,
  operations: PatchOperation[],
  conditions: Preconditions,
  values: number,
): Promise<Result<Updated>> {
  const problem = pathProblem(ctx.spec.type, operations);
  if (problem) return fail(problem);
  const bare = await ctx.store.getResource(ctx.connectionId, 'Group', id, { members: false });
  if (!bare) return fail(notFound(ctx, id));
  const members = bare.memberCount ?? 0;
  if (members > SCAN_GROUP_MEMBERS) {
    return fail(
      scimErrors.badRequest(
        'tooMany',
        `this PATCH needs the group's whole member list, and the group has ${members} members (at most ${SCAN_GROUP_MEMBERS} are read for it); ` +
          'on larger groups, add members, remove them by value (members[value eq "…"], or a list of values) or replace the list',
      ),
    );
  }
  // The list in hand is written whole: as long as the group, or as the values sent.
  return withGroupLease(ctx, id, Math.max(members, values), values, (lease) => patchInHand(ctx, id, operations, conditions, lease));
}

/**
 * A group PATCH planned by planGroupPatch: the operations on other attributes apply to the group read
 * without members (O(1)); member operations go to the store as changes (O(k)) or, for a replace of the
 * whole list, as that list; both in the one version-checked write. The answer carries no member list
 * (the handler reads one only when the response shows members).
 */
async function patchGroup(ctx: ResourceContext, id: string, plan: GroupPatchPlan, conditions: Preconditions, lease?: string): Promise<Result<Updated>> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const stored = await ctx.store.getResource(ctx.connectionId, 'Group', id, { members: false });
    if (!stored) return fail(notFound(ctx, id));
    if (preconditionFails(conditions, stored.version)) return fail(preconditionFailedError(id));
    // A group with long JSON is parsed, patched, rebuilt, compared, serialised and diffed in phases.
    await yieldForResource(stored);
    const current = JSON.parse(stored.json) as JsonObject;
    await yieldForResource(stored);
    const patched = plan.rest.length > 0 ? await applyPatchInSlices(ctx.spec.type, current, plan.rest) : ok(current);
    if (!patched.ok) return patched;
    await yieldForResource(stored);
    const owned = ownedOf(current, id);
    const rebuilt = buildResource(ctx.spec, patched.value, owned, current);
    if (!rebuilt.ok) return rebuilt;
    await yieldForResource(stored);
    const members = plan.list ?? plan.changes?.add;
    let listed: StoredMember[] = [];
    if (members && members.size > 0) {
      // The members sent, validated and normalised exactly as in a POST (values, limits, display names).
      const checked = await buildResourcePhased(ctx.spec, { displayName: 'members', members: [...members.values()] }, owned);
      if (!checked.ok) return checked;
      const list = membersOf(checked.value);
      if (!list.ok) return list;
      listed = list.value;
    }
    const count = plan.list ? listed.length : (stored.memberCount ?? 0) + listed.length;
    if (count > MAX_MEMBERS) {
      return fail(scimErrors.badRequest('invalidValue', `members would have ${count} values; at most ${MAX_MEMBERS} are accepted`));
    }
    // A PATCH that changes nothing is not written (RFC 7644 §3.5.2.1): without member operations that is
    // known here; with them only the store knows whether they change the members.
    const sameAttributes = sameContent(current, rebuilt.value);
    if (!plan.list && !plan.changes && sameAttributes) return ok({ stored });
    await yieldForResource({ json: stored.json, members: listed });
    const { members: _none, ...write } = ctx.spec.toWrite(rebuilt.value);
    const tooLarge = storedSizeProblem(ctx, write.json, stored.json);
    if (tooLarge) return fail(tooLarge);
    const changed: ResourceWrite = { ...write };
    if (lease !== undefined) changed.lease = lease;
    if (plan.list) changed.members = listed;
    else if (plan.changes) changed.memberChanges = { add: listed, remove: [...plan.changes.remove] };
    if (sameAttributes) changed.keepIfMembersUnchanged = true;
    await yieldForResource(changed);
    if (ctx.events) changed.events = eventsOf(current, rebuilt.value, changed);
    await yieldForResource(changed);
    const outcome = await replaceStored(ctx, changed, stored.version);
    if (outcome instanceof ScimError) return fail(outcome);
    if (outcome.ok && outcome.unchanged) return ok({ stored });
    if (outcome.ok) {
      const written: StoredResource = { id, kind: 'Group', json: changed.json, version: outcome.version };
      return ok({ stored: written });
    }
    if (outcome.reason !== 'version_mismatch') return fail(writeError(ctx, outcome, id));
    // Under If-Match a lost race is a 412, even one lost to this request's own first run whose reply was
    // lost: a group's JSON leaves its members out, so it cannot tell this write from another request's made
    // the same millisecond with other members (updateResource tells a user's own write by its JSON).
    if (pinsVersion(conditions)) return fail(preconditionFailedError(id));
    await backoff(attempt);
  }
  return fail(busy(ctx, id));
}

/**
 * The events of an update from `before` to `after` (`members` never counts as an attribute); a write that
 * carries members or member changes asks the store to log the member changes.
 */
function eventsOf(before: JsonObject, after: JsonObject, write: ResourceWrite): ResourceWrite['events'] {
  const touchesMembers = write.members !== undefined || write.memberChanges !== undefined;
  return updatedEvents(write.kind, before, after, touchesMembers);
}

/** Whether a user write changes nothing but `active`, to false (meta aside). Only read for a write past the size bound. */
function onlyDeactivates(before: JsonObject, after: JsonObject): boolean {
  if (after.active !== false || before.active === false) return false;
  const { active: _was, ...restBefore } = withoutMeta(before);
  const { active: _now, ...restAfter } = withoutMeta(after);
  return jsonEqual(restBefore, restAfter);
}

/** A resource without its `meta`. */
function withoutMeta(resource: JsonObject): JsonObject {
  const { meta: _meta, ...rest } = resource;
  return rest;
}

/**
 * A resource as sameContent compares it: without its `meta`, and without empty lists, which a stored
 * resource never holds but a group read with its members does (`members: []`, groupSpec.fromStored).
 */
function comparable(resource: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(resource)) {
    if (key === 'meta' || (Array.isArray(value) && value.length === 0)) continue;
    out[key] = value;
  }
  return out;
}

/**
 * Whether two resources differ only in `meta` (a PATCH that changes nothing is not written). Compared as
 * text, in key order: both are built by buildResource, which orders keys one way.
 */
function sameContent(a: JsonObject, b: JsonObject): boolean {
  return JSON.stringify(comparable(a)) === JSON.stringify(comparable(b));
}

/**
 * DELETE (RFC 7644 §3.6). With a precondition, the version it was checked on is handed to the store, which
 * deletes only if it is still current (checked and deleted atomically). A write landing in between is 412
 * when `If-Match` listed the version; otherwise the preconditions are checked again on the new version.
 */
export async function deleteResource(ctx: ResourceContext, id: string, conditions: Preconditions = {}): Promise<Result<void>> {
  const events = ctx.events ? deletedEvents(ctx.spec.kind) : undefined;
  const conditional = given(conditions.ifMatch) || given(conditions.ifNoneMatch);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    let expectedVersion: number | undefined;
    if (conditional) {
      const stored = await ctx.store.getResource(ctx.connectionId, ctx.spec.kind, id, { members: false });
      if (!stored) return fail(notFound(ctx, id));
      if (preconditionFails(conditions, stored.version)) return fail(preconditionFailedError(id));
      // `If-Match: *` alone holds for any version: no need to pin one.
      if (pinsVersion(conditions) || given(conditions.ifNoneMatch)) expectedVersion = stored.version;
    }
    const deleted = await ctx.store.deleteResource(ctx.connectionId, ctx.spec.kind, id, expectedVersion, events);
    ctx.recentUsers.forget(ctx.connectionId, id);
    if (deleted === true) return ok(undefined);
    if (deleted === false) return fail(notFound(ctx, id));
    if (pinsVersion(conditions)) return fail(preconditionFailedError(id));
    await backoff(attempt);
  }
  return fail(busy(ctx, id));
}
