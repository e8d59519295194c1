/** Arguments and replies of the Redis store's resource scripts (redis-scripts.ts lists them). */
import {
  type QuotaName,
  type ResourceKind,
  type ResourceWrite,
  type SortEntry,
  type StoredMember,
  type StoredMembership,
  type StoredResource,
  type StoreQuota,
  type WriteOutcome,
} from './store.js';
import { memberMeta, parseMemberMeta } from './write-weights.js';
import { loginProjectionOf } from './login-outcome.js';

/**
 * How a write hands group members to the create/replace scripts: 'keep' (unchanged), the whole list or the
 * changes inline (both at most MEMBER_CHUNK members), or a list staged earlier under a job token.
 */
export type MembersMode =
  { mode: 'keep' } | { mode: 'full'; members: StoredMember[] } | { mode: 'delta'; add: StoredMember[]; remove: string[] } | { mode: 'staged'; token: string };

/** The kind code used in keys and script arguments: `u` users, `g` groups. */
export const KIND_CODE: Record<ResourceKind, string> = { User: 'u', Group: 'g' };

/** How a write holds its group's lease (GROUP_LEASE in redis-member-scripts.ts): the token, and the bytes later chunks will add. */
export interface Leased {
  token: string;
  reserve?: number;
}

/**
 * The ARGV of the create/replace scripts; see WRITE_PRELUDE in redis-write-scripts.ts. expectedVersion '' (a later
 * chunk of a chunked write) is only accepted with a lease.
 */
export function writeArgs(write: ResourceWrite, expectedVersion: number | '', members: MembersMode, quota?: StoreQuota, lease?: Leased): (string | number)[] {
  const args: (string | number)[] = [KIND_CODE[write.kind], write.id, write.json, expectedVersion, write.displayName ?? '', write.indexes.length];
  for (const e of write.indexes) args.push(e.attribute, e.value, e.unique ? '1' : '0');
  args.push(...sortArgs(write.sortKeys ?? []));
  args.push(members.mode, write.keepIfMembersUnchanged ? '1' : '0', lease?.token ?? '');
  if (members.mode === 'full') {
    args.push(members.members.length);
    for (const m of members.members) args.push(m.value, memberMeta(m));
  } else if (members.mode === 'delta') {
    args.push(members.remove.length, ...members.remove, members.add.length);
    for (const m of members.add) args.push(m.value, memberMeta(m));
  } else if (members.mode === 'staged') {
    args.push(members.token);
  }
  if (quota) args.push(quota.maxUsers, quota.maxGroups, quota.maxBytes, quota.maxGroupsPerMember ?? '', quota.maxResourcesPerValue ?? '', lease?.reserve ?? 0);
  else args.push('');
  args.push(write.kind === 'User' ? (loginProjectionOf(write.json) ?? '') : '');
  return args;
}

/** Sort entries as the scripts take them: their count, then (attribute, '1', encoded value) or (attribute, '0', ''). */
export function sortArgs(entries: SortEntry[]): (string | number)[] {
  const args: (string | number)[] = [entries.length];
  for (const e of entries) args.push(e.attribute, e.value === null ? '0' : '1', e.value === null ? '' : encodeSortValue(e.value));
  return args;
}

/**
 * A sort value as text whose UTF-8 bytes order like JavaScript orders the value (by UTF-16 code unit), and
 * which holds no NUL (the separator before the seq in a sort member): each code unit u becomes the code
 * point u + 1, or 0x10000 + (u + 1 - 0xD800) from the surrogates up, so that no surrogate remains (lone
 * ones included) and code point order, which is UTF-8 byte order, follows code unit order.
 */
export function encodeSortValue(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i) + 1;
    out += unit < 0xd800 ? String.fromCharCode(unit) : String.fromCodePoint(0x10000 + unit - 0xd800);
  }
  return out;
}

/**
 * Turns a create/replace reply into a WriteOutcome: {status, detail} and a third item that is the quota's
 * limit for 'quota' (and a fourth, the member or index attribute refused), and for a replaced user's 'ok' its
 * groups after the write (flat (id, displayName) pairs).
 */
export function outcome(reply: unknown): WriteOutcome {
  const [status, detail, third, fourth] = reply as [string, string | number | undefined, string | string[] | undefined, string | undefined];
  switch (status) {
    case 'ok':
      return Array.isArray(third) ? { ok: true, version: Number(detail), groups: membershipsOf(third) } : { ok: true, version: Number(detail) };
    case 'unchanged':
      return { ok: true, version: Number(detail), unchanged: true };
    case 'uniqueness':
      return { ok: false, reason: 'uniqueness', attribute: String(detail) };
    case 'not_found':
      return { ok: false, reason: 'not_found' };
    case 'version_mismatch':
      return { ok: false, reason: 'version_mismatch', currentVersion: Number(detail) };
    case 'quota':
      return quotaOutcome(String(detail) as QuotaName, Number(third), fourth);
    // 'too_big' (an inline list over too many old members), 'staging_lost', 'leased' and 'lease_lost' are handled by redis-writes.ts.
    default:
      throw new Error(`unexpected reply from the Redis store: ${String(status)}`);
  }
}

/** A quota refusal; `about` is the member refused (groupsPerMember). */
function quotaOutcome(quota: QuotaName, limit: number, about: string | undefined): WriteOutcome {
  return about === undefined ? { ok: false, reason: 'quota', quota, limit } : { ok: false, reason: 'quota', quota, limit, member: String(about) };
}

/** Turns a loaded {id, json, version, aux} reply (see READ_PRELUDE) into a StoredResource (groups without members). */
export function parseResource(kind: ResourceKind, row: unknown[]): StoredResource {
  const [id, json, version, aux] = row as [string, string, string, string[]];
  const out: StoredResource = { id, kind, json, version: Number(version) };
  if (kind === 'User') {
    // {'-'}: the script left the user's groups unread (loginHolders in redis-login-scripts.ts): none are claimed.
    if (!(aux.length === 1 && aux[0] === GROUPS_UNREAD)) out.groups = membershipsOf(aux);
    return out;
  }
  out.memberCount = Number(aux[0] ?? 0);
  return out;
}

/** The aux a script gives a user whose groups it did not read (as opposed to {'*'}: read them with USER_GROUPS). */
export const GROUPS_UNREAD = '-';

/** A user's groups from auxOf's flat (group id, displayName) pairs. */
export function membershipsOf(flat: string[]): StoredMembership[] {
  const groups: StoredMembership[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) groups.push({ value: flat[i]!, display: flat[i + 1]! });
  return groups;
}

/** Turns LIST_MEMBERS' flat (value, meta) pairs into members. */
export function parseMembers(flat: string[]): StoredMember[] {
  const members: StoredMember[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) members.push(parseMemberMeta(flat[i]!, flat[i + 1]!));
  return members;
}

/**
 * Splits a stored row read as bytes, `<v>:<len id>:<len x>[/<len s>[/<entry seq>]]:<id><x><s><json>` (lengths in bytes),
 * into a resource (what parseResource makes of the same row read by a script). Returns null for a row that
 * is missing (a page's rows are read in one script, so only a sort member left behind by a write of an
 * earlier version of this library could point at none). The header's numbers are read digit by digit: a
 * page splits 100 rows.
 */
export function parseRawRow(kind: ResourceKind, raw: Buffer | null, aux: Buffer[]): StoredResource | null {
  if (!raw) return null;
  // version, id length, index entries length, sort members length (0 when the row has none: no '/'), and
  // the seq of the event log entry sharing the JSON (not needed here)
  const header = [0, 0, 0, 0, 0];
  let p = 0;
  for (let h = 0; h < 5; h++) {
    let n = 0;
    let c = raw[p++];
    for (; c !== 0x3a /* ':' */ && c !== 0x2f /* '/' */; c = raw[p++]) {
      if (c === undefined || c < 0x30 || c > 0x39) throw new Error('unexpected stored row layout in the Redis store');
      n = n * 10 + (c - 0x30);
    }
    header[h] = n;
    // ':' ends the header after the index length or any later number; only those two may be followed by '/'.
    if (h >= 2 && c === 0x3a) break;
    if ((c === 0x2f) !== (h === 2 || h === 3)) throw new Error('unexpected stored row layout in the Redis store');
  }
  const [version, idLength, indexLength, sortLength] = header as [number, number, number, number];
  const id = raw.toString('utf8', p, p + idLength);
  const json = raw.toString('utf8', p + idLength + indexLength + sortLength);
  const out: StoredResource = { id, kind, json, version };
  if (kind === 'User') {
    out.groups = [];
    for (let i = 0; i + 1 < aux.length; i += 2) out.groups.push({ value: aux[i]!.toString('utf8'), display: aux[i + 1]!.toString('utf8') });
    return out;
  }
  out.memberCount = Number(aux[0]?.toString('utf8') ?? 0);
  return out;
}
