/**
 * The Redis store's resource writes: create, replace and delete one user or group with its index entries,
 * sort entries, members (inline, as changes, or staged), quota, tombstones and event log entry, in one
 * script each (the key layout and shared helpers: redis-lua-prelude.ts).
 */
import { linkLua } from './lua-link.js';
import { BUMP_JOB, PRELUDE } from './redis-lua-prelude.js';
import { GROUP_LEASE_MS } from './store.js';
import { LOGIN_PROJECTION_CHARS } from './login-outcome.js';
import { MEMBERSHIP_BYTES } from './write-weights.js';

/**
 * Write helpers. ARGV: kind, id, json, expectedVersion ('' for a later chunk of a leased write: the lease,
 * not the version, keeps others out), displayName, n, n×(attr, value, '1'|'0'), the sort
 * entries s, s×(attr, '1' and the encoded value | '0' and ''), then the members mode, '1' when the write
 * is to be skipped if its members change nothing (keepIfMembersUnchanged) else '0', the group's write lease
 * token held by this write or '' (GROUP_LEASE), and the mode's
 * arguments: 'keep' (members unchanged); 'full', m, m×(value, meta) (a whole list of at most INLINE_MEMBERS
 * members); 'delta', r, r×value, a, a×(value, meta) (removals then additions, at most
 * INLINE_MEMBERS in all); 'staged', token (the list staged by STAGE_MEMBERS under that token); then the quota:
 * maxUsers, maxGroups, maxBytes, maxGroupsPerMember, maxResourcesPerValue, the bytes reserved for later
 * chunks, or a single '' when unchecked; then a user's login projection, or '' (none: loginProjectionOf).
 */
const WRITE_PRELUDE = `${PRELUDE}
local function parseWrite()
  local w = { k = ARGV[1], id = ARGV[2], json = ARGV[3], expected = tonumber(ARGV[4]), dn = ARGV[5],
    idx = {}, members = {}, add = {}, remove = {} }
  local p = 7
  for i = 1, tonumber(ARGV[6]) do
    w.idx[i] = { ARGV[p], ARGV[p + 1], ARGV[p + 2] }
    p = p + 3
  end
  w.sorted, p = readSorted(p + 1, tonumber(ARGV[p]))
  w.mode, w.keepSame, w.lease = ARGV[p], ARGV[p + 1] == '1', ARGV[p + 2]
  p = p + 3
  if w.mode == 'full' then
    for i = 1, tonumber(ARGV[p]) do w.members[i] = { ARGV[p + 2 * i - 1], ARGV[p + 2 * i] } end
    p = p + 1 + 2 * #w.members
  elseif w.mode == 'delta' then
    for i = 1, tonumber(ARGV[p]) do w.remove[i] = ARGV[p + i] end
    p = p + 1 + #w.remove
    for i = 1, tonumber(ARGV[p]) do w.add[i] = { ARGV[p + 2 * i - 1], ARGV[p + 2 * i] } end
    p = p + 1 + 2 * #w.add
  elseif w.mode == 'staged' then
    w.token = ARGV[p]
    p = p + 1
  end
  if ARGV[p] ~= '' then
    w.quota = { users = tonumber(ARGV[p]), groups = tonumber(ARGV[p + 1]), bytes = tonumber(ARGV[p + 2]),
      perMember = tonumber(ARGV[p + 3]), perValue = tonumber(ARGV[p + 4]), reserve = tonumber(ARGV[p + 5]) }
    p = p + 6
  else
    p = p + 1
  end
  w.lp = ARGV[p]
  -- What the write counts for (resourceBytes in src/store/write-weights.ts), split in parts.
  w.idxBytes, w.memberBytes = 0, 0
  for _, e in ipairs(w.idx) do w.idxBytes = w.idxBytes + #e[1] + #e[2] end
  for _, mm in ipairs(w.members) do w.memberBytes = w.memberBytes + #mm[1] + #mm[2] + ${MEMBERSHIP_BYTES} end
  return w
end

-- The quota reply a write growing the connection by delta bytes would get, or nil (O(1): counters only).
-- A write that does not grow the connection is never refused, even when it is already over a quota.
local function quotaRefusal(w, creating, delta)
  local q = w.quota
  if not q then return nil end
  if creating then
    local n = redis.call('ZCARD', order(w.k))
    if w.k == 'u' and n >= q.users then return { 'quota', 'users', fmt(q.users) } end
    if w.k == 'g' and n >= q.groups then return { 'quota', 'groups', fmt(q.groups) } end
  end
  -- reserve: what the later chunks of a chunked member write will add (writeChangesInChunks in redis-writes.ts).
  delta = delta + (q.reserve or 0)
  if delta > 0 and tonumber(redis.call('GET', BYTES) or '0') + delta > q.bytes then
    return { 'quota', 'bytes', fmt(q.bytes) }
  end
  return nil
end

-- The quota reply when group w.id would gain a member that joining takes past q.perMember groups, or
-- nil. Checked before anything changes, O(1) per member added. A staged list was checked as it was staged
-- (STAGE_MEMBERS records the first member over the cap in the job), and is refused here, after the checks
-- every write makes, as the memory store orders them.
local function joinRefusal(w)
  local q = w.quota
  if not q or not q.perMember or w.k ~= 'g' then return nil end
  local refusal = function(value) return { 'quota', 'groupsPerMember', fmt(q.perMember), value } end
  if w.mode == 'staged' then
    local over = redis.call('GET', jobKey(w.token, 'cap'))
    return over and refusal(over) or nil
  end
  local added = (w.mode == 'full' and w.members) or (w.mode == 'delta' and w.add) or {}
  local mz = mzkey(w.id)
  for _, m in ipairs(added) do
    if joinPasses(m[1], w.id, q.perMember) and not redis.call('ZSCORE', mz, m[1]) then return refusal(m[1]) end
  end
  return nil
end

-- The attribute of the first unique entry that another resource (seq other than mine) holds, or nil.
local function conflict(w, mine)
  for _, e in ipairs(w.idx) do
    if e[3] == '1' then
      local cur = redis.call('HGET', ikey(w.k, e[1]), e[2])
      if cur then
        for x in string.gmatch(cur, '%S+') do
          if x ~= mine then return e[1] end
        end
      end
    end
  end
  return nil
end

-- The entries of w packed for storing with the resource (attr, value, attr, value, ...).
local function packIndexes(w)
  local flat = {}
  for _, e in ipairs(w.idx) do
    flat[#flat + 1] = INDEX_CODE[e[1]] or e[1]
    flat[#flat + 1] = e[2]
  end
  return cmsgpack.pack(flat)
end

-- Adds the entries for seq and returns them packed for storing with the resource. A non-unique value lists
-- at most q.perValue holders (addHolder: crowded past them).
local function addIndexes(w, seq)
  local names, seen = {}, {}
  local cap = w.quota and w.quota.perValue
  for _, e in ipairs(w.idx) do
    addHolder(ikey(w.k, e[1]), e[2], seq, e[3] ~= '1' and cap or nil)
    -- One SADD for the write's attributes, each named once (a user's emails share one).
    if not seen[e[1]] then
      seen[e[1]] = true
      names[#names + 1] = w.k .. ':i:' .. e[1]
    end
  end
  callBatched('SADD', base .. 'attrs', names)
  return packIndexes(w)
end

-- The staged list of w is ready to be swapped in: its job is staging for this group. Returns its bytes.
local function stagedBytes(w)
  if redis.call('HGET', JOBS, w.token) ~= 's ' .. w.id then return nil end
  return tonumber(redis.call('GET', jobKey(w.token, 'b')) or '0')
end

-- The bytes the members of group w.id count for after the write (before: the current ones), or nil when
-- the write cannot be done in this call.
local function membersAfter(w, before)
  local mz, mm = mzkey(w.id), mmkey(w.id)
  if w.mode == 'keep' then return before end
  if w.mode == 'full' then return w.memberBytes end
  if w.mode == 'staged' then return stagedBytes(w) end
  local after = before
  local removed = {}
  for _, v in ipairs(w.remove) do
    if redis.call('ZSCORE', mz, v) then
      removed[v] = true
      after = after - #v - #(redis.call('HGET', mm, v) or '') - ${MEMBERSHIP_BYTES}
    end
  end
  for _, m in ipairs(w.add) do
    if removed[m[1]] or not redis.call('ZSCORE', mz, m[1]) then after = after + #m[1] + #m[2] + ${MEMBERSHIP_BYTES} end
  end
  return after
end

-- Whether an inline write's members leave group w.id's as they are (ResourceWrite.keepIfMembersUnchanged in
-- src/store/store.ts): changes add only members it has and remove only members it has not; a full list
-- holds exactly its members, with the same display and type. O(members sent).
local function membersUnchanged(w)
  local mz, mm = mzkey(w.id), mmkey(w.id)
  if w.mode == 'delta' then
    for _, v in ipairs(w.remove) do
      if redis.call('ZSCORE', mz, v) then return false end
    end
    for _, m in ipairs(w.add) do
      if not redis.call('ZSCORE', mz, m[1]) then return false end
    end
    return true
  end
  if w.mode ~= 'full' or redis.call('ZCARD', mz) ~= #w.members then return false end
  for _, m in ipairs(w.members) do
    if not redis.call('ZSCORE', mz, m[1]) or (redis.call('HGET', mm, m[1]) or '') ~= m[2] then return false end
  end
  return true
end

-- Writes the members of group w.id (creating: it has none yet). Bounded: 'full' and 'delta' carry at most
-- INLINE_MEMBERS members and a 'full' replace is only inlined over at most INLINE_MEMBERS old ones (checked by
-- the caller); 'staged' is O(1) (RENAME) and leaves the rest to SETTLE_JOB.
local function writeMembers(w, creating)
  local mz, mm = mzkey(w.id), mmkey(w.id)
  w.gone, w.joined = {}, {} -- the values removed and added, for the event log
  if w.mode == 'full' then
    local keep, was = {}, {}
    for _, m in ipairs(w.members) do keep[m[1]] = true end
    -- The new list is numbered above every position given before (a walk in progress misses none of it).
    local base = creating and 0 or topSeq(w.id)
    if not creating then
      for _, v in ipairs(redis.call('ZRANGE', mz, 0, -1)) do
        was[v] = true
        if not keep[v] then
          unlink(v, w.id)
          w.gone[#w.gone + 1] = v
        end
      end
      redis.call('DEL', mz, mm)
    end
    for i, m in ipairs(w.members) do
      redis.call('ZADD', mz, base + i, m[1])
      if m[2] ~= '' then redis.call('HSET', mm, m[1], m[2]) end
      if not was[m[1]] then
        link(m[1], w.id)
        w.joined[#w.joined + 1] = m[1]
      end
    end
    noteTop(w.id, base + #w.members)
  elseif w.mode == 'delta' then
    local n = topSeq(w.id)
    for _, v in ipairs(w.remove) do
      if redis.call('ZREM', mz, v) == 1 then
        redis.call('HDEL', mm, v)
        unlink(v, w.id)
        w.gone[#w.gone + 1] = v
      end
    end
    local top = n
    for _, m in ipairs(w.add) do
      if not redis.call('ZSCORE', mz, m[1]) then
        n = n + 1
        redis.call('ZADD', mz, n, m[1])
        if m[2] ~= '' then redis.call('HSET', mm, m[1], m[2]) end
        link(m[1], w.id)
        w.joined[#w.joined + 1] = m[1]
      end
    end
    if n > top then noteTop(w.id, n) end
  elseif w.mode == 'staged' then
    -- The old list becomes the job's trash; the staged one takes its place; SETTLE_JOB then links the new
    -- members and unlinks the old ones that left, in batches.
    if redis.call('EXISTS', mz) == 1 then redis.call('RENAME', mz, jobKey(w.token, 'x')) end
    redis.call('UNLINK', mm, jobKey(w.token, 'b'), jobKey(w.token, 'base'))
    if redis.call('EXISTS', jobKey(w.token, 'st')) == 1 then redis.call('RENAME', jobKey(w.token, 'st'), mz) end
    noteTop(w.id, topSeq(w.id))
    if redis.call('EXISTS', jobKey(w.token, 'sd')) == 1 then redis.call('RENAME', jobKey(w.token, 'sd'), mm) end
    redis.call('HSET', JOBS, w.token, 'c ' .. w.id)
    jobMoved(w.token)
  end
end
-- Writes the row of a created or replaced resource, then its log entry: last, and together, because the row
-- names the entry that shares its JSON (redis-event-scripts.ts, "Shared JSON"). cur is the row replaced
-- (nil for a creation): its JSON is first copied for the entry that named it.
local function writeRowAndEntry(w, seq, version, packed, cur)
  if cur then keepShared(cur.e, cur.id, cur.json) end
  local row = packRes(version, w.id, packed, sortedIfOn(w.k, w.sorted, seq), w.json, entrySeq(w))
  redis.call('HSET', rhash(w.k), seq, row)
  noteRow(w.k, row, cur == nil)
  appendEvents(w.k, w.id, seq, w)
end
`;

/** Most members one script takes or returns (arguments, staged chunks, pages). */
export const MEMBER_CHUNK = 1000;

/**
 * Most members one write script joins to or removes from a group itself (an inline list or inline changes,
 * and each chunk of longer changes): each moves a user's reverse entry and version. 1,000 users added in
 * one script held Redis 11-14 ms on an idle 2-core VM, and 20-51 ms in an enterprise-size audit under
 * load; longer lists are staged and settled in batches, longer changes applied in chunks of this many.
 */
export const INLINE_MEMBERS = 250;

/** Creates a resource: connection must exist, id and unique index values must be free. Reply {status, detail}. */
export const CREATE_RESOURCE = linkLua(
  WRITE_PRELUDE,
  `
local w = parseWrite()
if redis.call('EXISTS', base .. 'conn') == 0 then return { 'not_found' } end
-- The id taken: the second run of a create whose reply was lost (ids are the store's UUIDs); the third
-- element says whether the bump job its first run may have fed has work left.
if seqOf(w.k, w.id) then return { 'uniqueness', 'id', redis.call('HEXISTS', JOBS, '${BUMP_JOB}') } end
local taken = conflict(w, nil)
if taken then return { 'uniqueness', taken } end
local members = 0
if w.k == 'g' then
  members = membersAfter(w, 0)
  if not members then return { 'staging_lost' } end
end
local bytes = #w.json + w.idxBytes + members
local refused = quotaRefusal(w, true, bytes) or joinRefusal(w)
if refused then return refused end
redis.call('INCRBY', BYTES, bytes)
local seq = fmt(redis.call('INCR', base .. 'seq'))
local packed = addIndexes(w, seq)
redis.call('ZADD', order(w.k), seq, w.id)
if w.k == 'g' then
  redis.call('HSET', DN, w.id, w.dn)
  redis.call('HSET', MB, w.id, members)
  -- Nothing may be left of an earlier group with this id (deletion renames its list away; this is a guard).
  redis.call('UNLINK', mzkey(w.id), mmkey(w.id))
  redis.call('HDEL', GTOP, w.id)
  writeMembers(w, true)
end
writeRowAndEntry(w, seq, 1, packed, nil)
if w.k == 'u' then keepProjection(w, seq, 1, nil) end
if deferBumps() then return { 'ok', 1, '${BUMP_JOB}' } end
return { 'ok', 1 }
`,
);

/**
 * Replaces a resource if its version equals ARGV[4]; swaps its index entries and members. Reply {status,
 * detail}, and for a user replaced, its groups after the write as auxOf reads them.
 */
export const REPLACE_RESOURCE = linkLua(
  WRITE_PRELUDE,
  `
local w = parseWrite()
if redis.call('EXISTS', base .. 'conn') == 0 then return { 'not_found' } end
local seq = seqOf(w.k, w.id)
if not seq then return { 'not_found' } end
if w.k == 'g' then
  -- A group under another write's lease is left alone until it ends (the caller waits, then reads again).
  local key = leaseKey(w.id)
  local holder = redis.call('GET', key)
  if holder and holder ~= w.lease then return { 'leased', math.max(redis.call('PTTL', key), 1) } end
  if w.lease ~= '' then
    -- A later chunk goes on only under the lease its write started with; a versioned write whose lease
    -- lapsed takes it again (its version check still stands).
    if not holder and not w.expected then return { 'lease_lost' } end
    redis.call('SET', key, w.lease, 'PX', ${GROUP_LEASE_MS})
  end
end
if not w.expected and w.lease == '' then return redis.error_reply('a write without an expected version needs a lease') end
local cur = parseRes(redis.call('HGET', rhash(w.k), seq))
-- The third element, as for a create's taken id: maybe a second run after a lost reply (redis-writes.ts).
if w.expected and cur.v ~= w.expected then return { 'version_mismatch', cur.v, redis.call('HEXISTS', JOBS, '${BUMP_JOB}') } end
if w.keepSame and w.k == 'g' and membersUnchanged(w) then return { 'unchanged', cur.v } end
-- Most updates (active, names, titles) leave every index entry as it was: then the indexes are not touched.
local packed = packIndexes(w)
local changed = packed ~= cur.x
if changed then
  local taken = conflict(w, seq)
  if taken then return { 'uniqueness', taken } end
end
local before = #cur.json + (changed and idxBytes(cur.x) or w.idxBytes)
local after = #w.json + w.idxBytes
if w.k == 'g' then
  -- An inline list replaces at most INLINE_MEMBERS old members in one call; more go through staging.
  if w.mode == 'full' and redis.call('ZCARD', mzkey(w.id)) > ${INLINE_MEMBERS} then return { 'too_big' } end
  local old = tonumber(redis.call('HGET', MB, w.id) or '0')
  local members = membersAfter(w, old)
  if not members then return { 'staging_lost' } end
  before = before + old
  after = after + members
  w.memberBytes = members
end
local delta = after - before
local refused = quotaRefusal(w, false, delta) or joinRefusal(w)
if refused then return refused end
redis.call('INCRBY', BYTES, delta)
if changed then
  removeIndexes(w.k, seq, cur.x)
  addIndexes(w, seq)
end
removeSorted(w.k, cur.s)
if w.k == 'g' then
  redis.call('HSET', DN, w.id, w.dn)
  redis.call('HSET', MB, w.id, w.memberBytes)
  writeMembers(w, false)
end
writeRowAndEntry(w, seq, cur.v + 1, packed, cur)
-- A user's groups as they are now: what the answer to this write shows (a renamed group moved no version).
if w.k == 'u' then
  keepProjection(w, seq, cur.v + 1, cur.json)
  return { 'ok', cur.v + 1, auxOf('u', w.id) }
end
if deferBumps() then return { 'ok', cur.v + 1, '${BUMP_JOB}' } end
return { 'ok', cur.v + 1 }
`,
);

/** Most tombstones past their retention that one delete drops (TOMBSTONE_TRIM_BUDGET in src/store/tombstones.ts). */
const TRIM_BUDGET = 64;

/**
 * Deletes a resource (ARGV: kind, id, now in epoch ms, expected version or '', tombstone retention ms, most
 * tombstones, job token, now as an ISO dateTime and as its encoded sort value) with its index entries;
 * removes it from every group listing it (those groups' versions and `meta.lastModified` move: touchAt). A
 * group's member list is renamed to the job's trash (O(1)): SETTLE_JOB then drops its members' reverse
 * entries and bumps those users, in batches; readers skip groups that are gone. A user leaves a tombstone per index
 * entry in `u:gone` (digest scored by deletion time; read by FIND_USERS_FOR_LOGIN), and the oldest
 * tombstones go: at most ${TRIM_BUDGET} past the retention, then those over the cap, at most the entries
 * added plus ${TRIM_BUDGET}, so every delete's work stays bounded. The groups it leaves are touched within
 * TOUCH_SCRIPT_BYTES of their records and TOUCH_SCRIPT_GROUPS of them; the rest are left to a touch job (token ARGV[7] .. 't'). Reply 1, 2
 * (deleted, with a touch job to settle), 0 (not found), 3 (not found, but a job of this token is left: the
 * second run of a delete whose reply was lost), or {'version_mismatch', v}.
 */
export const DELETE_RESOURCE = linkLua(
  PRELUDE,
  `
local k, id, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local seq = seqOf(k, id)
if not seq then
  local left = redis.call('HEXISTS', JOBS, ARGV[7]) == 1 or redis.call('HEXISTS', JOBS, ARGV[7] .. 't') == 1
  return left and 3 or 0
end
local cur = parseRes(redis.call('HGET', rhash(k), seq))
if ARGV[4] ~= '' and cur.v ~= tonumber(ARGV[4]) then return { 'version_mismatch', cur.v } end
local packed = cur.x
local freed = #cur.json + idxBytes(packed)
if k == 'u' then
  local old = unpackIndexes(packed)
  -- The tombstones in one ZADD of (score, member) pairs.
  local tombs = {}
  for i = 1, #old, 2 do
    tombs[#tombs + 1] = now
    tombs[#tombs + 1] = digest(old[i], old[i + 1])
  end
  callBatched('ZADD', GONE, tombs)
  local retention, max = tonumber(ARGV[5]), tonumber(ARGV[6])
  -- The oldest tombstones past the retention (at most the budget): by score, so that none read costs nothing.
  local expired = #redis.call('ZRANGE', GONE, '-inf', fmt(now - retention), 'BYSCORE', 'LIMIT', 0, ${TRIM_BUDGET})
  if expired > 0 then redis.call('ZREMRANGEBYRANK', GONE, 0, expired - 1) end
  local over = math.min(redis.call('ZCARD', GONE) - max, #old / 2 + ${TRIM_BUDGET})
  if over > 0 then redis.call('ZREMRANGEBYRANK', GONE, 0, over - 1) end
end
removeIndexes(k, seq, packed)
removeSorted(k, cur.s)
redis.call('ZREM', order(k), id)
keepShared(cur.e, cur.id, cur.json)
redis.call('HDEL', rhash(k), seq)
if k == 'u' and #cur.json >= ${LOGIN_PROJECTION_CHARS} then redis.call('HDEL', LP, seq) end
-- The groups listing it: those its reverse entry names, and any whose new list is still settling (a 'c'
-- job: the swap is done, the members' reverse entries are written in batches after it), which may list it
-- before its entry names them.
local parents = redis.call('HGET', MEMBER, id)
local listing, seen = {}, {}
for gid in string.gmatch(parents or '', '%S+') do
  listing[#listing + 1], seen[gid] = gid, true
end
for _, job in ipairs(redis.call('HVALS', JOBS)) do
  local gid = string.match(job, '^c (%S+)$')
  if gid and not seen[gid] then listing[#listing + 1], seen[gid] = gid, true end
end
-- Joins left to the bump job (link, past REVERSE_SCRIPT_BYTES): the group lists the member before its entry
-- names the group. Their list holds at most the moves of the writes still settling.
for _, move in ipairs(redis.call('LRANGE', jobKey('${BUMP_JOB}', 'r'), 0, -1)) do
  local gid = string.match(move, '^(%S+) ')
  if gid and not seen[gid] and string.sub(move, #gid + 2) == id then listing[#listing + 1], seen[gid] = gid, true end
end
local left = {}
if #listing > 0 then
  local touched = {}
  for _, gid in ipairs(listing) do
    if redis.call('ZREM', mzkey(gid), id) == 1 then
      local cost = #id + #(redis.call('HGET', mmkey(gid), id) or '') + ${MEMBERSHIP_BYTES}
      redis.call('HDEL', mmkey(gid), id)
      redis.call('HINCRBY', MB, gid, -cost)
      freed = freed + cost
      touched[#touched + 1] = gid
    end
  end
  redis.call('HDEL', MEMBER, id)
  -- A group listing itself is already gone here, so seqOf skips it. The groups past the script's budget
  -- are left to a touch job under the token ARGV[7] .. 't' (SETTLE_JOB), which the caller settles.
  local grown, next = touchWithin(touched, 1, ARGV[8], ARGV[9])
  freed = freed - grown
  for i = next, #touched do left[#left + 1] = touched[i] end
end
if k == 'g' then
  freed = freed + tonumber(redis.call('HGET', MB, id) or '0')
  redis.call('HDEL', DN, id)
  redis.call('HDEL', MB, id)
  redis.call('HDEL', GTOP, id)
  redis.call('UNLINK', mmkey(id))
  if redis.call('EXISTS', mzkey(id)) == 1 then
    redis.call('RENAME', mzkey(id), jobKey(ARGV[7], 'x'))
    redis.call('HSET', JOBS, ARGV[7], 'c ' .. id)
    jobMoved(ARGV[7])
  end
end
redis.call('INCRBY', BYTES, -freed)
appendEvents(k, id, nil, nil)
if #left > 0 then
  callBatched('RPUSH', jobKey(ARGV[7] .. 't', 't'), left)
  redis.call('HSET', JOBS, ARGV[7] .. 't', 't ' .. ARGV[8] .. ' ' .. ARGV[9])
  jobMoved(ARGV[7] .. 't')
  return 2
end
return 1
`,
);
