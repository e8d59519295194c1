/** Arguments and replies of the Redis store's resource scripts (see redis-scripts.ts). */
import {
  memberMeta,
  parseMemberMeta,
  type QuotaName,
  type ResourceKind,
  type ResourceWrite,
  type StoredMember,
  type StoredResource,
  type StoreQuota,
  type WriteOutcome,
} from './store.js';

/**
 * How a write hands group members to the create/replace scripts: 'keep' (unchanged), the whole list or the
 * changes inline (both at most MEMBER_CHUNK members), or a list staged earlier under a job token.
 */
export type MembersMode =
  { mode: 'keep' } | { mode: 'full'; members: StoredMember[] } | { mode: 'delta'; add: StoredMember[]; remove: string[] } | { mode: 'staged'; token: string };

/** The kind code used in keys and script arguments: `u` users, `g` groups. */
export const KIND_CODE: Record<ResourceKind, string> = { User: 'u', Group: 'g' };

/** The ARGV of the create/replace scripts; see WRITE_PRELUDE in redis-scripts.ts. */
export function writeArgs(write: ResourceWrite, expectedVersion: number, members: MembersMode, quota?: StoreQuota): (string | number)[] {
  const args: (string | number)[] = [KIND_CODE[write.kind], write.id, write.json, expectedVersion, write.displayName ?? '', write.indexes.length];
  for (const e of write.indexes) args.push(e.attribute, e.value, e.unique ? '1' : '0');
  args.push(members.mode);
  if (members.mode === 'full') {
    args.push(members.members.length);
    for (const m of members.members) args.push(m.value, memberMeta(m));
  } else if (members.mode === 'delta') {
    args.push(members.remove.length, ...members.remove, members.add.length);
    for (const m of members.add) args.push(m.value, memberMeta(m));
  } else if (members.mode === 'staged') {
    args.push(members.token);
  }
  if (quota) args.push(quota.maxUsers, quota.maxGroups, quota.maxBytes);
  else args.push('');
  return args;
}

/** Turns a create/replace reply {status, detail, limit?} into a WriteOutcome. */
export function outcome(reply: unknown): WriteOutcome {
  const [status, detail, limit] = reply as [string, string | number | undefined, string | undefined];
  switch (status) {
    case 'ok':
      return { ok: true, version: Number(detail) };
    case 'uniqueness':
      return { ok: false, reason: 'uniqueness', attribute: String(detail) };
    case 'not_found':
      return { ok: false, reason: 'not_found' };
    case 'version_mismatch':
      return { ok: false, reason: 'version_mismatch', currentVersion: Number(detail) };
    case 'quota':
      return { ok: false, reason: 'quota', quota: String(detail) as QuotaName, limit: Number(limit) };
    // 'too_big' (an inline list over too many old members) and 'staging_lost' are handled by redis.ts.
    default:
      throw new Error(`unexpected reply from the Redis store: ${String(status)}`);
  }
}

/** Turns a loaded {id, json, version, aux} reply (see READ_PRELUDE) into a StoredResource (groups without members). */
export function parseResource(kind: ResourceKind, row: unknown[]): StoredResource {
  const [id, json, version, aux] = row as [string, string, string, string[]];
  const out: StoredResource = { id, kind, json, version: Number(version) };
  if (kind === 'User') {
    out.groups = [];
    for (let i = 0; i + 1 < aux.length; i += 2) out.groups.push({ value: aux[i]!, display: aux[i + 1]! });
    return out;
  }
  out.memberCount = Number(aux[0] ?? 0);
  return out;
}

/** Turns LIST_MEMBERS' flat (value, meta) pairs into members. */
export function parseMembers(flat: string[]): StoredMember[] {
  const members: StoredMember[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) members.push(parseMemberMeta(flat[i]!, flat[i + 1]!));
  return members;
}

/**
 * Splits a stored row read as bytes, `<v>:<len id>:<len x>:<id><x><json>` (lengths in bytes), into a
 * resource (what parseResource makes of the same row read by a script). Returns null for a row that
 * vanished between the page's ZRANGE and HMGET (not possible inside one script, but cheap to guard). The
 * header's three numbers are read digit by digit: a page splits 100 rows.
 */
export function parseRawRow(kind: ResourceKind, raw: Buffer | null, aux: Buffer[]): StoredResource | null {
  if (!raw) return null;
  const header = [0, 0, 0];
  let p = 0;
  for (let h = 0; h < 3; h++) {
    let n = 0;
    for (let c = raw[p++]; c !== 0x3a /* ':' */; c = raw[p++]) {
      if (c === undefined || c < 0x30 || c > 0x39) throw new Error('unexpected stored row layout in the Redis store');
      n = n * 10 + (c - 0x30);
    }
    header[h] = n;
  }
  const [version, idLength, indexLength] = header as [number, number, number];
  const id = raw.toString('utf8', p, p + idLength);
  const json = raw.toString('utf8', p + idLength + indexLength);
  const out: StoredResource = { id, kind, json, version };
  if (kind === 'User') {
    out.groups = [];
    for (let i = 0; i + 1 < aux.length; i += 2) out.groups.push({ value: aux[i]!.toString('utf8'), display: aux[i + 1]!.toString('utf8') });
    return out;
  }
  out.memberCount = Number(aux[0]?.toString('utf8') ?? 0);
  return out;
}
