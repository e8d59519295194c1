/**
 * Queries on /Users and /Groups (RFC 7644 §3.4.2): filter, sort, paging and projection.
 *
 * Cost, one store round trip unless said otherwise:
 * - without a filter or sort, a page is read directly in creation order (O(page));
 * - without a filter, `sortBy` on a sortable attribute (users: `userName`, `displayName`, `externalId`,
 *   `meta.created`, `meta.lastModified`; groups the same without `userName`; ResourceSpec.sortIndexes) is
 *   read from the store's sort index (O(log n + page), either direction, any startIndex; docs/sorting.md);
 *   until the sort indexes hold what an earlier version stored, such a request first indexes a bounded
 *   share of it (sort-backfill.ts) and is scanned if that did not finish;
 * - an `eq` on an indexed attribute (`id`, `userName`, `externalId`, `emails.value`, group `displayName`) —
 *   alone, inside an `and`, or in every branch of an `or` — reads only the indexed candidates
 *   (O(matches)); the full filter is then applied to them, so the index never decides a result by itself,
 *   and a `sortBy` sorts them in memory (the IdPs' own lookup, a lone `userName eq` or `externalId eq`, is
 *   answered before any of this by idp-lookup.ts, with the same answer);
 * - any other filter or `sortBy` scans the connection's resources in creation order in batches
 *   (O(resources)), up to `maxScan` (else 400 `tooMany` naming what the indexes answer), filters and sorts
 *   them in slices that yield to the event loop (src/sliced-sort.ts).
 * Filtering is measured in work, not resources (scan-work.ts): the values each comparison reads and their
 * length. A slice ends after SCAN_SLICE_WORK units (or LIST_YIELD_EVERY resources); a request may spend
 * SCAN_WORK_PER_RESOURCE units per resource of `maxScan`, one resource's evaluation SCAN_RESOURCE_WORK;
 * past either, 400 `tooMany` as soon as the work passes it.
 *
 * The query's parameters are read by list-query.ts, its refusals built by list-refusals.ts, and the
 * ListResponse by list-response.ts.
 */
import { answerWeight, expectedWeight, readWeight } from './heavy-work.js';
import { fold } from '../fold.js';
import { type Page, type ReadOptions, type SortOrder, type StoredResource } from '../store/store.js';
import { CrowdedValueError } from '../store/crowded-values.js';
import { keptWithin, PAGE_MEMBERS_BUDGET, ROWS_PER_SCRIPT } from '../store/read-budgets.js';
import type { FilterNode } from './filter.js';
import { matchesFilter } from './filter-eval.js';
import { yieldToEventLoop } from '../event-loop.js';
import { SCAN_FOLD_CHARS, SCAN_GROUP_MEMBERS, SCAN_MEMBERSHIPS_PER_RESOURCE, SCAN_PARSE_CHARS, SCAN_WORK_PER_RESOURCE } from './limits.js';
import {
  lookupTooCrowded,
  groupTooLarge,
  lookupsTooLarge,
  MAX_PAGE_BYTES,
  pageTooLarge,
  SCAN_MAX_BYTES,
  scanTooBig,
  scanTooHeavy,
  scanTooLarge,
  scanTooMuchWork,
  sortIndexNotReady,
} from './list-refusals.js';
import type { ListQuery } from './list-query.js';
import { WorkBudgetExceeded, WorkMeter } from './scan-work.js';
import type { JsonObject } from './normalize.js';
import type { Projection } from './projection.js';
import { shows, wantsMembers } from './group-members.js';
import { askedMember, askedMembers, withAskedMembers } from './member-terms.js';
import { renderResource } from './render.js';
import type { ResourceContext } from './resources.js';
import { resolveAttribute } from './schemas.js';
import { continueSortBacklog, indexSortBacklog } from './sort-backfill.js';
import { sortIndexOf, sortKeyed, sortValue, type Keyed, type SortKey } from './sort.js';

/**
 * Users an equality index gave for a value, read with their groups: the IdPs' short path (idp-lookup.ts)
 * hands over what it read when it leaves the answer to this path, so the same rows are never read twice.
 */
export interface IndexRead {
  index: string;
  value: string;
  found: StoredResource[];
}

/** An index read: by id, by an equality index, or the groups listing a member (member-terms.ts). */
type Lookup = { by: 'id'; value: string } | { by: 'index'; index: string; value: string } | { by: 'member'; value: string };

/** An index lookup found crowded (CrowdedValueError), by index and value, which planLookups then plans around. */
const crowdedKey = (index: string, value: string) => `${index}\u0000${value}`;

/**
 * Index lookups whose union is a superset of the filter's matches, or null when none exists; `crowded`:
 * lookups found crowded, which the plan may not use.
 */
function planLookups(ctx: ResourceContext, node: FilterNode, crowded: ReadonlySet<string> = new Set()): Lookup[] | null {
  switch (node.kind) {
    case 'and': {
      // Either side's lookups find a superset of the matches: the side naming single resources reads less,
      // and is never a crowded value (`externalId eq "shared" and userName eq "bob"`).
      const left = planLookups(ctx, node.left, crowded);
      const right = planLookups(ctx, node.right, crowded);
      return left && right && !namesSingles(ctx, left) && namesSingles(ctx, right) ? right : (left ?? right);
    }
    case 'or': {
      const left = planLookups(ctx, node.left, crowded);
      const right = left && planLookups(ctx, node.right, crowded);
      return left && right ? [...left, ...right] : null;
    }
    case 'valuePath': {
      const member = askedMember(ctx, node);
      if (member !== null) return [{ by: 'member', value: member }];
      // emails[type eq "work"].value eq "x" is parsed as valuePath(emails, and(type eq "work", value eq "x")).
      const inner = innerEquality(node.filter);
      if (!inner) return null;
      return uncrowded(equalityLookup(ctx, node.path.schema, node.path.attribute, 'value', inner), crowded);
    }
    case 'compare': {
      const member = askedMember(ctx, node);
      if (member !== null) return [{ by: 'member', value: member }];
      if (node.op !== 'eq') return null;
      const value = typeof node.value === 'string' ? node.value : typeof node.value === 'number' ? (node.raw ?? String(node.value)) : null;
      if (value === null) return null;
      return uncrowded(equalityLookup(ctx, node.path.schema, node.path.attribute, node.path.subAttribute, value), crowded);
    }
    default:
      return null;
  }
}

/** The plan, or null when one of its lookups was found crowded. */
function uncrowded(plan: Lookup[] | null, crowded: ReadonlySet<string>): Lookup[] | null {
  return plan && crowded.size > 0 && plan.some((lookup) => lookup.by === 'index' && crowded.has(crowdedKey(lookup.index, lookup.value))) ? null : plan;
}

/** Whether each lookup of `plan` finds one resource at most: by id, or by a unique index. */
function namesSingles(ctx: ResourceContext, plan: Lookup[]): boolean {
  const unique = new Set(Object.values(ctx.spec.equalityIndexes).flatMap((index) => (index.unique ? [index.index] : [])));
  return plan.every((lookup) => lookup.by === 'id' || (lookup.by === 'index' && unique.has(lookup.index)));
}

function innerEquality(node: FilterNode): string | null {
  if (node.kind === 'and') return innerEquality(node.left) ?? innerEquality(node.right);
  if (
    node.kind === 'compare' &&
    node.op === 'eq' &&
    typeof node.value === 'string' &&
    node.path.attribute.toLowerCase() === 'value' &&
    !node.path.subAttribute
  ) {
    return node.value;
  }
  return null;
}

function equalityLookup(ctx: ResourceContext, schema: string | undefined, attribute: string, sub: string | undefined, value: string): Lookup[] | null {
  const resolved = resolveAttribute(ctx.spec.type, attribute, schema);
  if (resolved.schemaId !== ctx.spec.type.schema.id) return null;
  const key = sub ? `${resolved.name}.${sub}`.toLowerCase() : resolved.name.toLowerCase();
  if (key === 'id') return [{ by: 'id', value }];
  const index = Object.hasOwn(ctx.spec.equalityIndexes, key) ? ctx.spec.equalityIndexes[key] : undefined;
  if (!index) return null;
  const indexed = index.folded ? fold(value) : value;
  // The email index holds no value that folds to '' (users.ts leaves such emails out): a scan answers those.
  if (indexed === '' && resolved.def?.multiValued) return null;
  return [{ by: 'index', index: index.index, value: indexed }];
}

/**
 * Whether the filter's index lookup finds exactly its matches, so no candidate needs rendering and checking
 * again (the lookups of every IdP: `userName eq`, `externalId eq`, a group's `displayName eq`): one `eq` on a
 * string, against `id` or a single-valued string attribute whose index compares as the filter does (folded
 * by src/fold.ts on both sides where the attribute is not case-exact, byte for byte where it is).
 */
export function indexAnswersExactly(ctx: ResourceContext, filter: FilterNode): boolean {
  if (filter.kind !== 'compare' || filter.op !== 'eq' || typeof filter.value !== 'string' || filter.path.subAttribute) return false;
  const resolved = resolveAttribute(ctx.spec.type, filter.path.attribute, filter.path.schema);
  const { def } = resolved;
  if (resolved.schemaId !== ctx.spec.type.schema.id || !def || def.type !== 'string' || def.multiValued) return false;
  const key = def.name.toLowerCase();
  if (key === 'id') return true;
  const index = Object.hasOwn(ctx.spec.equalityIndexes, key) ? ctx.spec.equalityIndexes[key] : undefined;
  return index !== undefined && index.folded === !def.caseExact;
}

/** Most resources a scan or a client page reads per store call (one script on Redis), and what it reads first. */
const SCAN_BATCH = ROWS_PER_SCRIPT;
const FIRST_SCAN_BATCH = 100;
/**
 * The JSON a scan reads per store page: pages of heavy resources (a user with 1,000 values is 20 KB) are made
 * smaller, and the store ends a page past it (ReadOptions.rowBytes), so that decoding one page never holds
 * the event loop for long (500 such users are 11 MB).
 */
const SCAN_BATCH_BYTES = 1_000_000;
/**
 * The JSON of a scan's or a client page's first store page, which tells what the rest will weigh
 * (HeavyTicket.expect): a request refused for its weight has read no more than this. A page of 100 users of
 * up to 5 KB is still one read.
 */
const FIRST_READ_BYTES = 512 * 1024;
/** The same while a heavy request of the connection would find no slot (HeavyTicket.firstRead): a row or so. */
const CROWDED_FIRST_READ_BYTES = 16 * 1024;

/** What a request's first store page may hold. */
const firstReadBytes = (crowded: boolean): number => (crowded ? CROWDED_FIRST_READ_BYTES : FIRST_READ_BYTES);

/** How many resources to read next, after a page of `count` resources whose JSON was `bytes` long. */
export function nextScanBatch(count: number, bytes: number): number {
  if (count === 0 || bytes <= 0) return SCAN_BATCH;
  return Math.max(1, Math.min(SCAN_BATCH, Math.floor((count * SCAN_BATCH_BYTES) / bytes)));
}

/** A stored resource's `meta.created` (written by the SCIM layer, ISO 8601 in UTC: sorts as text), '' if none. */
function createdOf(resource: StoredResource): string {
  // `meta` is the stored object's last member; a quote inside any string value is escaped, so the last
  // `"created":"` of the text is meta's own.
  const at = resource.json.lastIndexOf('"created":"');
  return at === -1 ? '' : resource.json.slice(at + 11, resource.json.indexOf('"', at + 11));
}

/** Resources from several lookups in creation order: by `meta.created`, then by id (both stable). */
function inCreationOrder(resources: StoredResource[]): StoredResource[] {
  const keyed = resources.map((resource) => ({ resource, created: createdOf(resource) }));
  keyed.sort((a, b) =>
    a.created !== b.created ? (a.created < b.created ? -1 : 1) : a.resource.id < b.resource.id ? -1 : a.resource.id > b.resource.id ? 1 : 0,
  );
  return keyed.map((k) => k.resource);
}

/** The group memberships (a user's groups) or members (a group's) a stored resource carries. */
const membershipsOf = (resource: StoredResource): number => (resource.groups?.length ?? 0) + (resource.members?.length ?? 0);

/**
 * Charges what a scan or lookups read (memberships, a group too large to scan) against their budget. Groups
 * are read with their members only up to SCAN_GROUP_MEMBERS (`read.membersUpTo`): a larger one comes without
 * them, refused by its count before its members are read (a 250,000-member group was read whole first).
 */
function membershipCharge(ctx: ResourceContext, maxScan: number, read: ReadOptions): (resources: readonly StoredResource[]) => void {
  let memberships = 0;
  const readsMembers = ctx.spec.kind === 'Group' && read.members === true;
  return (resources) => {
    for (const resource of resources) {
      if (readsMembers && (resource.memberCount ?? resource.members?.length ?? 0) > SCAN_GROUP_MEMBERS) throw groupTooLarge(ctx, resource);
      memberships += membershipsOf(resource);
    }
    if (memberships > maxScan * SCAN_MEMBERSHIPS_PER_RESOURCE) throw scanTooHeavy(ctx, maxScan * SCAN_MEMBERSHIPS_PER_RESOURCE);
  };
}

/**
 * The candidates of the filter's index lookups. A lookup by a crowded value is planned around where the
 * filter allows (an `and` another side of which an index answers: `externalId eq "shared" and
 * emails.value eq "x"`, in either order), else it is a 400 `tooMany` (lookupTooCrowded).
 */
async function plannedCandidates(
  ctx: ResourceContext,
  filter: FilterNode,
  lookups: Lookup[],
  ...rest: [maxScan: number, options: ReadOptions, holders: Map<string, ReadonlySet<string>>, alreadyRead: IndexRead | null]
): Promise<StoredResource[]> {
  const crowded = new Set<string>();
  for (let plan: Lookup[] | null = lookups, round = 1; ; round++) {
    try {
      return await lookedUpCandidates(ctx, plan, ...rest);
    } catch (error) {
      if (!(error instanceof CrowdedLookup)) throw error;
      crowded.add(crowdedKey(error.index, error.value));
      // Each round leaves out one more lookup of the filter's and reads again those before it: a few rounds
      // at most, so that a filter of many crowded terms costs a few times one plan's reads, not one per term.
      plan = round < CROWDED_PLAN_ROUNDS ? planLookups(ctx, filter, crowded) : null;
      if (plan === null) throw lookupTooCrowded(ctx, error.cause);
    }
  }
}

/** Most plans a filter's lookups are tried in, each without the crowded values the ones before met. */
const CROWDED_PLAN_ROUNDS = 3;

/** A lookup of lookedUpCandidates that found its value crowded. */
class CrowdedLookup extends Error {
  constructor(
    readonly index: string,
    readonly value: string,
    override readonly cause: CrowdedValueError,
  ) {
    super(cause.message);
  }
}

/**
 * Every resource the lookups find, in creation order (over the budget: tooMany). Users are read with their
 * groups, since they are few; `options` says how groups are read (with their members?).
 */
async function lookedUpCandidates(
  ctx: ResourceContext,
  lookups: Lookup[],
  maxScan: number,
  options: ReadOptions,
  holders: Map<string, ReadonlySet<string>>,
  alreadyRead: IndexRead | null,
): Promise<StoredResource[]> {
  const read = { ...options, groups: true };
  const charge = membershipCharge(ctx, maxScan, read);
  const seen = new Map<string, StoredResource>();
  let looked = 0;
  for (const lookup of lookups) {
    const reused = alreadyRead !== null && lookup.by === 'index' && lookup.index === alreadyRead.index && lookup.value === alreadyRead.value;
    const found = reused ? alreadyRead.found : await lookedUp(ctx, lookup, read);
    if (lookup.by === 'member') holders.set(lookup.value, new Set(found.map((group) => group.id)));
    const fresh = found.filter((resource) => !seen.has(resource.id));
    charge(fresh);
    ctx.heavy.charge(readWeight(fresh));
    for (const resource of fresh) {
      seen.set(resource.id, resource);
      looked += resource.json.length;
    }
    if (seen.size > maxScan) throw lookupsTooLarge(ctx, maxScan);
    if (looked > SCAN_MAX_BYTES) throw scanTooBig(ctx);
  }
  // Several lookups (`externalId eq "x" or userName eq "y"`): in lookup order, a resource created later
  // would land between earlier answers and shift the pages a client is walking. Ordered by creation time
  // instead, whichever of them answer, a new match comes last, unless it was created in the same millisecond
  // as an earlier one (ties go by id; docs/known-limitations.md).
  return lookups.length > 1 ? inCreationOrder([...seen.values()]) : [...seen.values()];
}

/**
 * The connection's resources in creation order, one store page at a time (over the budget: tooMany). Each
 * page is let go once the caller has looked at it: a scan holds one page of rows, not all it read (40 scans
 * of 125 MB connections held one each and ran the process out of heap; an audit of 2026-12-06).
 * `options`: how groups are read (with their members?) and users (with their groups?).
 */
async function* scannedCandidates(ctx: ResourceContext, maxScan: number, indexing: boolean, options: ReadOptions): AsyncGenerator<readonly StoredResource[]> {
  const charge = membershipCharge(ctx, maxScan, options);
  let read = 0;
  // A page may end early (users in very many groups: GROUP_IDS_PER_PAGE), so the walk steps by what it got.
  // Pages are sized by the bytes the last one held (nextScanBatch), starting small.
  for (let offset = 0, batch = FIRST_SCAN_BATCH; ;) {
    // The memory store answers without waiting on I/O: yield between pages so a scan never holds the loop.
    if (offset > 0) await yieldToEventLoop();
    const list = (rowBytes: number) => ctx.store.listPage(ctx.connectionId, ctx.spec.kind, offset, batch, { ...options, rowBytes });
    const page = offset === 0 ? await ctx.heavy.firstRead((crowded) => list(firstReadBytes(crowded)), true) : await list(SCAN_BATCH_BYTES);
    if (offset === 0 && page.total > maxScan) throw indexing ? sortIndexNotReady(ctx, page.total, maxScan) : scanTooLarge(ctx, page.total, maxScan);
    charge(page.resources);
    const weight = readWeight(page.resources);
    if (offset === 0) ctx.heavy.expect(expectedWeight(weight, page.resources.length, page.total));
    ctx.heavy.charge(weight);
    const bytes = pageBytesOf(page.resources);
    read += bytes;
    if (read > SCAN_MAX_BYTES) throw scanTooBig(ctx);
    yield page.resources;
    batch = nextScanBatch(page.resources.length, bytes);
    offset += page.resources.length;
    if (page.resources.length === 0 || offset >= page.total) return;
  }
}

/** The resources holding an index value, in creation order; a crowded value is a 400 `tooMany` (lookupTooCrowded). */
export async function findIndexed(ctx: ResourceContext, index: string, value: string, read: ReadOptions): Promise<StoredResource[]> {
  try {
    return await ctx.store.findByIndex(ctx.connectionId, ctx.spec.kind, index, value, read);
  } catch (error) {
    throw error instanceof CrowdedValueError ? lookupTooCrowded(ctx, error) : error;
  }
}

/** The resources one index read finds, in creation order. */
async function lookedUp(ctx: ResourceContext, lookup: Lookup, read: ReadOptions): Promise<StoredResource[]> {
  const { store, connectionId } = ctx;
  switch (lookup.by) {
    case 'id': {
      const found = await store.getResource(connectionId, ctx.spec.kind, lookup.value, read);
      return found ? [found] : [];
    }
    case 'index':
      try {
        return await store.findByIndex(connectionId, ctx.spec.kind, lookup.index, lookup.value, read);
      } catch (error) {
        throw error instanceof CrowdedValueError ? new CrowdedLookup(lookup.index, lookup.value, error) : error;
      }
    case 'member':
      return store.findGroupsWithMember(connectionId, lookup.value, read);
  }
}

/**
 * For each asked member id not looked up already, the ids of the groups that list it (one read each, sent
 * together); more than `max` groups in all is a 400 `tooMany`, as for lookups.
 */
async function findHolders(ctx: ResourceContext, asked: string[], holders: Map<string, ReadonlySet<string>>, max: number): Promise<void> {
  const missing = asked.filter((value) => !holders.has(value));
  const found = await Promise.all(missing.map((value) => ctx.store.findGroupsWithMember(ctx.connectionId, value, { members: false })));
  if (found.reduce((sum, groups) => sum + groups.length, 0) > max) throw lookupsTooLarge(ctx, max);
  missing.forEach((value, i) => holders.set(value, new Set(found[i]!.map((group) => group.id))));
}

/** Whether a filter or sortBy names the top-level attribute `name` (`members`, `groups`). */
function mentions(filter: FilterNode | null, sortBy: SortKey | null, name: string): boolean {
  const isName = (attribute: string) => attribute.toLowerCase() === name;
  if (sortBy && sortBy.container === null && isName(sortBy.attribute)) return true;
  const walk = (node: FilterNode): boolean => {
    switch (node.kind) {
      case 'and':
      case 'or':
        return walk(node.left) || walk(node.right);
      case 'not':
        return walk(node.filter);
      default:
        return isName(node.path.attribute);
    }
  };
  return filter !== null && walk(filter);
}

/**
 * The page's resources read again whole, where the scan read them without their groups' members or their
 * users' groups (one deleted meanwhile drops out); a page of groups ends early past PAGE_MEMBERS_BUDGET
 * members, as the store's own pages do.
 */
async function readWhole(ctx: ResourceContext, page: ListedResource[]): Promise<ListedResource[]> {
  const kept = ctx.spec.kind === 'Group' ? keptWithin(page, (listed) => listed.stored.memberCount ?? 0, PAGE_MEMBERS_BUDGET) : page.length;
  const whole: ListedResource[] = [];
  if (ctx.spec.kind === 'Group') {
    // Sequential: each group's members are read in pages of their own.
    for (const listed of page.slice(0, kept)) {
      const full = await ctx.store.getResource(ctx.connectionId, 'Group', listed.stored.id);
      if (!full) continue;
      ctx.heavy.charge(readWeight([full]));
      whole.push({ stored: full, rendered: null });
    }
    return whole;
  }
  const users = await Promise.all(page.map((listed) => ctx.store.getResource(ctx.connectionId, 'User', listed.stored.id)));
  ctx.heavy.charge(readWeight(users.filter((user) => user !== null)));
  for (const user of users) if (user) whole.push({ stored: user, rendered: null });
  return whole;
}

/**
 * A client's page, read from the store (`read`: listPage or listSorted from an offset) SCAN_BATCH_BYTES of
 * rows at a time with a yield between reads, so a page of heavy resources is never decoded or held in one
 * piece. The page is whole (Okta's import steps `startIndex` by `count`: a short page would skip users)
 * unless its rows pass MAX_PAGE_BYTES. Null when the store cannot answer in that order (listSorted's null).
 */
async function readClientPage(
  ctx: ResourceContext,
  offset: number,
  count: number,
  read: (offset: number, count: number, rowBytes: number) => Promise<Page | null>,
): Promise<Page | null> {
  const resources: StoredResource[] = [];
  let total = 0;
  // Each read asks for about as many rows as SCAN_BATCH_BYTES holds at the last read's size, so the store
  // never loads far more rows than it returns.
  let ask = FIRST_SCAN_BATCH;
  for (;;) {
    const first = resources.length === 0;
    if (!first) await yieldToEventLoop();
    const at = offset + resources.length;
    const asked = Math.min(count - resources.length, ask);
    const page = first ? await ctx.heavy.firstRead((crowded) => read(at, asked, firstReadBytes(crowded)), false) : await read(at, asked, SCAN_BATCH_BYTES);
    if (page === null) return null;
    const weight = readWeight(page.resources);
    if (first) ctx.heavy.expect(expectedWeight(weight, page.resources.length, Math.min(count, page.total - offset)));
    ctx.heavy.charge(weight);
    const bytes = pageBytesOf(page.resources);
    resources.push(...page.resources);
    if ((total += bytes) > MAX_PAGE_BYTES) throw pageTooLarge(ctx, resources.length, offset);
    if (page.resources.length === 0 || resources.length >= count || at + page.resources.length >= page.total) return { total: page.total, resources };
    ask = nextScanBatch(page.resources.length, bytes);
  }
}

/**
 * What some resources weigh in a page (what MAX_PAGE_BYTES and the scan limits count): answerWeight, their
 * JSON and users' derived groups; while only the JSON counted, 100 users in 1,000 groups of 1,024-character
 * names made a 118 MB page (a hostile-tenant probe, 2026-12-07).
 */
export function pageBytesOf(resources: readonly StoredResource[]): number {
  let bytes = 0;
  for (const resource of resources) bytes += answerWeight(resource);
  return bytes;
}

/** One resource of a page: as stored, and rendered when filtering or sorting already needed it. */
export interface ListedResource {
  stored: StoredResource;
  rendered: JsonObject | null;
}

export interface ListResult {
  total: number;
  startIndex: number;
  resources: ListedResource[];
}

/** Runs a query: the page's resources (rendered only where filtering or sorting needed it). `alreadyRead`: see {@link IndexRead}. */
export async function listResources(ctx: ResourceContext, query: ListQuery, baseUrl: string, alreadyRead: IndexRead | null = null): Promise<ListResult> {
  const offset = query.startIndex - 1;
  const options = shownReadOptions(ctx, query.projection);
  const pageOf = (page: Page): ListResult => ({
    total: page.total,
    startIndex: query.startIndex,
    resources: page.resources.map((stored) => ({ stored, rendered: null })),
  });
  if (!query.filter && !query.sortBy) return pageOf(await creationOrderPage(ctx, offset, query.count, options));
  const index = query.sortBy && sortIndexOf(ctx.spec, query.sortBy);
  let indexing = false;
  if (!query.filter && index) {
    const page = await sortIndexPage(ctx, { attribute: index.attribute, descending: query.descending }, offset, query.count, options);
    if (page) return pageOf(page);
    indexing = true;
  }
  return filteredPage(ctx, query, baseUrl, alreadyRead, indexing);
}

/**
 * How a page's resources are read for what `projection` shows: groups without their members and users without
 * their groups when it leaves them out, O(page) whatever their size (100 users in 1,000 groups each are
 * 100,000 memberships to derive).
 */
function shownReadOptions(ctx: ResourceContext, projection: Projection): ReadOptions {
  return ctx.spec.kind === 'Group' ? { members: wantsMembers(projection) } : { groups: shows(projection, 'groups') };
}

/** A page of groups read with their members in one store call, weighed as it arrives. */
function weighed(ctx: ResourceContext, page: Page | null): Page | null {
  if (page) ctx.heavy.charge(readWeight(page.resources));
  return page;
}

/**
 * A page without a filter or sort, in creation order (O(page)). count=0 asks for totalResults only (the
 * store still answers the total). A page of groups with their members is one read: the store ends it early
 * past PAGE_MEMBERS_BUDGET members, on purpose.
 */
async function creationOrderPage(ctx: ResourceContext, offset: number, count: number, options: ReadOptions): Promise<Page> {
  if (options.members) return weighed(ctx, await ctx.store.listPage(ctx.connectionId, ctx.spec.kind, offset, count, options))!;
  const read = (at: number, n: number, rowBytes: number) => ctx.store.listPage(ctx.connectionId, ctx.spec.kind, at, n, { ...options, rowBytes });
  return (await readClientPage(ctx, offset, count, read))!;
}

/**
 * A page from the store's sort index (O(log n + page)), or null while the index does not hold the resources
 * stored before it (or by an earlier version): a bounded share of them is indexed first, and if that did not
 * finish the rest goes on in the background (sort-backfill.ts) and the caller scans.
 */
async function sortIndexPage(ctx: ResourceContext, order: SortOrder, offset: number, count: number, options: ReadOptions): Promise<Page | null> {
  const sorted = () =>
    options.members
      ? ctx.store.listSorted(ctx.connectionId, ctx.spec.kind, order, offset, count, options).then((page) => weighed(ctx, page))
      : readClientPage(ctx, offset, count, (at, n, rowBytes) => ctx.store.listSorted(ctx.connectionId, ctx.spec.kind, order, at, n, { ...options, rowBytes }));
  let page = await sorted();
  if (page === null && (await indexSortBacklog(ctx))) page = await sorted();
  if (page === null) continueSortBacklog(ctx);
  return page;
}

/**
 * A page of a filter, or of a sort no index answers (`indexing`: one whose index is being built): index
 * lookups where the filter allows (planLookups), else a scan of the connection in store pages, evaluated
 * in slices of bounded work.
 */
async function filteredPage(ctx: ResourceContext, query: ListQuery, baseUrl: string, alreadyRead: IndexRead | null, indexing: boolean): Promise<ListResult> {
  const offset = query.startIndex - 1;
  const options = shownReadOptions(ctx, query.projection);
  const lookups = query.filter ? planLookups(ctx, query.filter) : null;
  // Groups are read with their members, and a scan's users with their groups, only where the filter or sort
  // names them (and, for members, the reverse index cannot answer: member-terms.ts); the page shown is then
  // read whole.
  const sortsOnMembers = mentions(null, query.sortBy, 'members');
  const asked = ctx.spec.kind === 'Group' && query.filter && !sortsOnMembers ? askedMembers(ctx, query.filter) : null;
  const readMembers = mentions(query.filter, query.sortBy, 'members') && asked === null;
  const readGroups = lookups !== null || mentions(query.filter, query.sortBy, 'groups');
  const read = ctx.spec.kind === 'Group' ? { members: readMembers, membersUpTo: SCAN_GROUP_MEMBERS } : { groups: readGroups };
  const holders = new Map<string, ReadonlySet<string>>();
  const looked = lookups && (await plannedCandidates(ctx, query.filter!, lookups, query.maxScan, read, holders, ctx.spec.kind === 'User' ? alreadyRead : null));
  if (asked) await findHolders(ctx, asked, holders, query.maxScan);
  const partial = ctx.spec.kind === 'Group' ? options.members === true && !readMembers : !readGroups && shows(query.projection, 'groups');
  const target = (rendered: JsonObject, id: string): JsonObject => (asked?.length ? withAskedMembers(rendered, id, asked, holders) : rendered);
  // Resources read again after they matched may have changed since: one that no longer matches is left out,
  // as one deleted meanwhile is (a page never shows a resource its filter does not select).
  const stillMatching = (rows: ListedResource[], readInWhole = false): ListedResource[] => {
    if (!query.filter) return rows;
    const meter = new WorkMeter(query.maxScan * SCAN_WORK_PER_RESOURCE);
    const scope = { type: ctx.spec.type };
    // Groups read whole for the answer: their members are not what the filter reads (it would have read
    // them in the scan: then they are not read whole), and rendering 100,000 of them to check it costs.
    const forFilter = (stored: StoredResource) => (!readInWhole || stored.members === undefined ? stored : { ...stored, members: undefined });
    try {
      return rows.filter(({ stored }) => matchesFilter(query.filter!, target(renderResource(ctx.spec, forFilter(stored), baseUrl), stored.id), scope, meter));
    } catch (error) {
      if (error instanceof WorkBudgetExceeded) throw scanTooMuchWork(ctx, error);
      throw error;
    }
  };
  const shown = async (resources: ListedResource[]): Promise<ListedResource[]> => (partial ? stillMatching(await readWhole(ctx, resources), true) : resources);
  // A scan's page is read again by id once the scan is done: its users then with their groups at once, where
  // the answer shows them (read as the scan read them and then whole, each user was read twice).
  const reread = async (entries: readonly { id: string }[]): Promise<ListedResource[]> => {
    if (partial && ctx.spec.kind === 'User') return stillMatching(await readByIds(ctx, entries, options, offset));
    const rows = await readByIds(ctx, entries, read, offset);
    return partial ? shown(rows) : stillMatching(rows);
  };
  if (looked && query.filter && !query.sortBy && indexAnswersExactly(ctx, query.filter)) {
    const resources = looked.slice(offset, offset + query.count).map((stored) => ({ stored, rendered: null }));
    return { total: looked.length, startIndex: query.startIndex, resources: await shown(resources) };
  }
  const candidates = looked ? [looked] : scannedCandidates(ctx, query.maxScan, indexing, read);
  const { matched, page, pageIds, keyed } = await matchesForPage(ctx, query, baseUrl, candidates, looked !== null, target);
  if (!query.sortBy) return { total: matched, startIndex: query.startIndex, resources: looked ? await shown(page) : await reread(pageIds) };
  const sorted = (await sortKeyed(keyed, query.descending)).slice(offset, offset + query.count);
  // Lookups' rows are all in hand already; a scan's page is read again by id.
  const inHand = looked && new Map(looked.map((stored) => [stored.id, stored]));
  const rows = inHand ? await shown(sorted.map(({ id }) => ({ stored: inHand.get(id)!, rendered: null }))) : await reread(sorted);
  return { total: matched, startIndex: query.startIndex, resources: rows };
}

/** What a scan kept of its matches: their count, and the page's (rows in hand, or ids), or every match's sort key. */
interface ScanMatches {
  matched: number;
  page: ListedResource[];
  pageIds: { id: string }[];
  keyed: (Keyed & { id: string })[];
}

/**
 * Evaluates the filter over `batches` (lookups' rows, or a scan's store pages) and keeps what the page needs.
 * Without sortBy only the page's matches are kept (the rest are counted): their rows where lookups hold them
 * all already (`inHand`), else their ids, the rows read again once the scan is done; with sortBy, each
 * match's id and sort key, its row read again if it lands on the page. A scan holds one store page of rows,
 * never its answer's: 4 scans of one tenant each gathering 8 MB of matching rows made the young
 * generation's collections 36-48 ms (an audit of 2026-12-06). Evaluated in slices of bounded work (reading
 * each resource, its memberships, and each value the filter compares, by length), with a yield between them,
 * so a scan never holds the event loop for long. `target`: what the filter sees of a rendered resource.
 */
async function matchesForPage(
  ctx: ResourceContext,
  query: ListQuery,
  baseUrl: string,
  batches: Iterable<readonly StoredResource[]> | AsyncIterable<readonly StoredResource[]>,
  inHand: boolean,
  target: (rendered: JsonObject, id: string) => JsonObject,
): Promise<ScanMatches> {
  const offset = query.startIndex - 1;
  const scope = { type: ctx.spec.type };
  const kept: ScanMatches = { matched: 0, page: [], pageIds: [], keyed: [] };
  let windowBytes = 0;
  const meter = new WorkMeter(query.maxScan * SCAN_WORK_PER_RESOURCE);
  try {
    for await (const batch of batches) {
      for (const stored of batch) {
        await meter.nextResource();
        meter.chargeScan(1 + Math.floor(stored.json.length / SCAN_PARSE_CHARS));
        meter.chargeSlice(membershipsOf(stored));
        const rendered = renderResource(ctx.spec, stored, baseUrl);
        if (query.filter && !matchesFilter(query.filter, target(rendered, stored.id), scope, meter)) continue;
        const position = kept.matched++;
        if (!query.sortBy) {
          if (position >= offset && position < offset + query.count) {
            if (inHand) kept.page.push({ stored, rendered });
            else kept.pageIds.push({ id: stored.id });
            // A page that will be refused for its size is refused now, not after the whole scan.
            if ((windowBytes += stored.json.length) > MAX_PAGE_BYTES) throw pageTooLarge(ctx, kept.page.length + kept.pageIds.length, offset);
          }
          continue;
        }
        const key = sortValue(rendered, query.sortBy);
        if (typeof key === 'string') meter.chargeScan(Math.floor(key.length / SCAN_FOLD_CHARS));
        kept.keyed.push({ id: stored.id, key, position });
      }
    }
  } catch (error) {
    if (error instanceof WorkBudgetExceeded) throw scanTooMuchWork(ctx, error);
    throw error;
  }
  return kept;
}

/**
 * The rows of a scan's page, read again by id in the page's order (as the scan read them: `read`); one
 * deleted since the scan is left out. At most MAX_PAGE_BYTES of rows, as any page (`offset`: the page's, for
 * the refusal).
 */
async function readByIds(ctx: ResourceContext, entries: readonly { id: string }[], read: ReadOptions, offset: number): Promise<ListedResource[]> {
  const rows: ListedResource[] = [];
  let bytes = 0;
  for (let i = 0; i < entries.length; i += SCAN_BATCH) {
    const found = await Promise.all(entries.slice(i, i + SCAN_BATCH).map(({ id }) => ctx.store.getResource(ctx.connectionId, ctx.spec.kind, id, read)));
    for (const stored of found) {
      if (!stored) continue;
      ctx.heavy.charge(readWeight([stored]));
      if ((bytes += stored.json.length) > MAX_PAGE_BYTES) throw pageTooLarge(ctx, rows.length + 1, offset);
      rows.push({ stored, rendered: null });
    }
  }
  return rows;
}
