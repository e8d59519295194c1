/**
 * The Redis store's reads of single resources and index lookups: a resource by id or creation number, a
 * session's user, a user's groups, an index value's holders, the groups with a member, a connection's
 * usage and a page of its event log. Logins read through redis-login-scripts.ts, pages through
 * redis-page-scripts.ts.
 */
import { linkLua } from './lua-link.js';
import { READ_EVENTS_BODY } from './redis-event-scripts.js';
import { PRELUDE, READ_PRELUDE } from './redis-lua-prelude.js';
import { ROWS_PER_SCRIPT } from './read-budgets.js';

/** Reads one resource (ARGV: kind, id). Reply: the loaded resource, or an empty array. */
export const GET_RESOURCE = linkLua(
  READ_PRELUDE,
  `
-- A connection being deleted (its record renamed away, its data swept in batches) has no resources: a
-- session still naming it must not find its person among what the sweep has not reached yet.
if redis.call('EXISTS', base .. 'conn') == 0 then return {} end
local seq = seqOf(ARGV[1], ARGV[2])
return seq and load(ARGV[1], seq) or {}
`,
);

/**
 * A logged-in user as a session check reads it (Store.readSessionUser). ARGV: user id, the version the caller
 * knows ('' for none), the bytes of groups to name (sessionGroupBytes: id, name and 32 each). Reply: {} when
 * there is no such user, else {version, json ('' when the version is the known one), '1' when the JSON came,
 * flat (group id, displayName) pairs of the named groups, the ids of the others}: the others' names are
 * not read, so the reply does not grow with them.
 */
export const READ_SESSION_USER = linkLua(
  READ_PRELUDE,
  `
if redis.call('EXISTS', base .. 'conn') == 0 then return {} end
local seq = seqOf('u', ARGV[1])
if not seq then return {} end
local r = parseRes(redis.call('HGET', rhash('u'), seq))
local budget, spent, named, more = tonumber(ARGV[3]), 0, {}, {}
for _, gid in ipairs(groupIdsOf(r.id)) do
  if #more == 0 then
    local name = redis.call('HGET', DN, gid) or ''
    spent = spent + #gid + #name + 32
    if spent <= budget then
      named[#named + 1] = gid
      named[#named + 1] = name
    else
      more[1] = gid
    end
  else
    more[#more + 1] = gid
  end
end
local known = fmt(r.v) == ARGV[2]
return { fmt(r.v), known and '' or r.json, known and '0' or '1', named, more }
`,
);

/**
 * The groups of users (ARGV: their ids), in order, as many as one script may derive (groupsWithin): the
 * first always. Reply: one flat (group id, displayName) list per user read; the caller sends the rest again.
 */
export const USER_GROUPS = linkLua(
  READ_PRELUDE,
  `
local aux, out = groupsWithin(ARGV, #ARGV), {}
for i = 1, #ARGV do
  if #aux[i] == 1 then break end
  out[i] = aux[i]
end
return out
`,
);

/**
 * Reads one resource a lookup deferred (findAll's budget), if it is still what the lookup found (ARGV: kind,
 * 'i' for an index value or 'm' for the groups listing a member, attribute, value, id, and '0' to leave a
 * user's groups unread, as loginHolders leaves them): the index entry of the value still lists its seq, or
 * the member's reverse entry the group. Reply: the loaded resource, or an empty array (gone, or no longer
 * holding the value).
 */
export const GET_HOLDER = linkLua(
  READ_PRELUDE,
  `
local k, id = ARGV[1], ARGV[5]
local seq = seqOf(k, id)
if not seq then return {} end
local listed, token = nil, seq
if ARGV[2] == 'i' then listed = redis.call('HGET', ikey(k, ARGV[3]), ARGV[4]) else listed, token = redis.call('HGET', MEMBER, ARGV[4]), id end
if not string.find(' ' .. (listed or '') .. ' ', ' ' .. token .. ' ', 1, true) then return {} end
if ARGV[2] == 'm' and not listedIn(id, ARGV[4]) then return {} end
return load(k, seq, ARGV[6] == '0')
`,
);

/**
 * Reads the resources an index value points at (ARGV: kind, attribute, value, '0' to leave users' groups
 * unread), in creation order.
 */
export const FIND_BY_INDEX = linkLua(
  READ_PRELUDE,
  `
return findAll(ARGV[1], ARGV[2], ARGV[3], ARGV[4] == '0')
`,
);

/**
 * Reads the groups that list a member (ARGV: the member value, the creation number to read after), in
 * creation order, from the members' reverse index: O(groups found), never the groups' member lists. At most
 * ${ROWS_PER_SCRIPT} (ROWS_PER_SCRIPT) per call: a user in 1,000 groups is read by four calls, not one of 11-31
 * ms; by creation number, so a group that leaves or joins between calls shifts none of the others. Those past
 * PAGE_READ_BYTES come back deferred (loadAll). Reply {the last creation number read, or '' when no more; rows}.
 */
export const FIND_GROUPS_WITH_MEMBER = linkLua(
  READ_PRELUDE,
  `
local listed, listedSeqs = groupIdsOf(ARGV[1])
local seqs, gids, after, more = {}, {}, tonumber(ARGV[2]), false
for i, gid in ipairs(listed) do
  if listedSeqs[i] > after then
    if #seqs == ${ROWS_PER_SCRIPT} then
      more = true
      break
    end
    seqs[#seqs + 1], gids[#gids + 1] = fmt(listedSeqs[i]), gid
  end
end
return { more and seqs[#seqs] or '', loadAll('g', seqs, gids) }
`,
);

/**
 * Reads a user by its creation number (ARGV: seq, '0' to leave its groups unread), for a batch lookup too heavy
 * for one script. Reply: as GET_RESOURCE.
 */
export const GET_USER_BY_SEQ = linkLua(
  READ_PRELUDE,
  `
return load('u', ARGV[1], ARGV[2] == '0') or {}
`,
);

/** What the connection holds against its quotas. Reply {users, groups, bytes}. */
export const GET_USAGE = linkLua(
  PRELUDE,
  `
return { redis.call('ZCARD', order('u')), redis.call('ZCARD', order('g')), redis.call('GET', BYTES) or '0' }
`,
);

/** Reads a page of the event log (see READ_EVENTS_BODY in redis-event-scripts.ts). */
export const READ_EVENTS = linkLua(PRELUDE, READ_EVENTS_BODY);
