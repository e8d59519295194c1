/**
 * The Redis store's long member lists (docs/groups.md): staging a list in chunks, a group's write lease,
 * checking member changes against the stored list, settling what a write left to jobs (reverse entries,
 * versions, touches) in bounded batches, finding jobs left behind, and pages of a group's members.
 */
import { linkLua } from './lua-link.js';
import { BUMP_SCRIPT_BYTES, PRELUDE, REVERSE_SCRIPT_BYTES, TOUCH_SCRIPT_GROUPS } from './redis-lua-prelude.js';
import { MEMBER_CHUNK } from './redis-write-scripts.js';
import { GROUP_LEASE_MS } from './store.js';
import { MEMBERSHIP_BYTES } from './write-weights.js';

/**
 * Stages a chunk of a member list that is too long for one call (ARGV: group id, token, m, m×(value, meta),
 * m at most MEMBER_CHUNK, then the most groups per member or '', then '1' for the first chunk else '0'),
 * under job keys of its own: `st` (sorted set, list order), `sd` (metadata), `sb` (a list of the values, for
 * SETTLE_JOB) and `b` (their bytes). Repeated values are kept once. Nothing a reader sees changes; the
 * create/replace script in 'staged' mode swaps the list in. Reply: the staged count, -1 when the connection
 * is gone, or -2 when a later chunk finds its job gone. The first new member that joining would take past
 * the most groups allowed is recorded in the job (`cap`), and the swap refuses the write; the check runs
 * here, not at the swap (which stays O(1)), so writes in flight at once may each add the same member past
 * the cap, by one group each.
 */
export const STAGE_MEMBERS = linkLua(
  PRELUDE,
  `
local gid, token = ARGV[1], ARGV[2]
local last = 3 + 2 * tonumber(ARGV[3])
if redis.call('EXISTS', base .. 'conn') == 0 then return -1 end
local job = redis.call('HGET', JOBS, token)
if job and job ~= 's ' .. gid then return redis.error_reply('staging token already used') end
-- A later chunk whose job is gone (dropped as abandoned: STALE_JOBS) must not start the list again from it.
if not job and ARGV[last + 2] ~= '1' then return -2 end
redis.call('HSET', JOBS, token, 's ' .. gid)
jobMoved(token)
local st, sd, sb = jobKey(token, 'st'), jobKey(token, 'sd'), jobKey(token, 'sb')
-- The staged list is numbered above every position of the live list (as a full list is, writeMembers); a
-- write that changes the live list meanwhile moves the group's version, and the swap is refused.
if not job then redis.call('SET', jobKey(token, 'base'), topSeq(gid)) end
local base = tonumber(redis.call('GET', jobKey(token, 'base')) or '0')
local n = redis.call('ZCARD', st)
local bytes = 0
local cap = tonumber(ARGV[last + 1])
if cap and redis.call('EXISTS', jobKey(token, 'cap')) == 0 then
  for i = 4, last, 2 do
    local v = ARGV[i]
    if joinPasses(v, gid, cap) and not redis.call('ZSCORE', mzkey(gid), v) then
      redis.call('SET', jobKey(token, 'cap'), v)
      break
    end
  end
end
for i = 4, last, 2 do
  local v, meta = ARGV[i], ARGV[i + 1]
  if not redis.call('ZSCORE', st, v) then
    n = n + 1
    redis.call('ZADD', st, base + n, v)
    if meta ~= '' then redis.call('HSET', sd, v, meta) end
    redis.call('RPUSH', sb, v)
    bytes = bytes + #v + #meta + ${MEMBERSHIP_BYTES}
  end
end
redis.call('INCRBY', jobKey(token, 'b'), bytes)
return n
`,
);

/**
 * A group's write lease (ARGV: group id, token, 'take', 'peek' or 'drop'): a write too large for one script holds it
 * from its first script to its last (writeChangesInChunks and the staged lists in src/store/redis-writes.ts), and
 * REPLACE_RESOURCE refuses every other write of the group meanwhile ('leased'). 'take' answers 0 when taken,
 * else the milliseconds the holder's lease has left; 'peek' the same without taking it; 'drop' frees it when
 * the token holds it. It lives GROUP_LEASE_MS past its holder's last script, so a holder that died frees the
 * group by itself.
 */
export const GROUP_LEASE = linkLua(
  PRELUDE,
  `
local key, token = leaseKey(ARGV[1]), ARGV[2]
-- PTTL is 0 in a lease's last millisecond, and -2 once it is gone.
if ARGV[3] == 'peek' then
  local left = redis.call('PTTL', key)
  return left == -2 and 0 or math.max(left, 1)
end
if ARGV[3] == 'take' then
  if redis.call('SET', key, token, 'NX', 'PX', ${GROUP_LEASE_MS}) then return 0 end
  return math.max(redis.call('PTTL', key), 1)
end
if redis.call('GET', key) == token then redis.call('DEL', key) end
return 0
`,
);

/**
 * What one chunk of a chunked member write would do to a group (ARGV: group id, the most groups per member
 * or '', r, r×value, a, a×(value, '1' when an earlier chunk of the write removes it else '0' then the meta)), read
 * only: {version, bytes it adds (negative: frees), 1 if it changes the list else 0, the first value it adds
 * that joining would take past the most groups per member or ''}; {-1} when the group is gone. Removals
 * apply before additions, as in the write.
 */
export const CHECK_MEMBER_CHANGES = linkLua(
  PRELUDE,
  `
local gid, cap = ARGV[1], tonumber(ARGV[2])
local seq = seqOf('g', gid)
if not seq then return { -1 } end
local version = parseRes(redis.call('HGET', rhash('g'), seq)).v
local mz, mm = mzkey(gid), mmkey(gid)
local bytes, changes, over, removed = 0, 0, '', {}
local p = 3
for i = 1, tonumber(ARGV[p]) do
  local v = ARGV[p + i]
  if not removed[v] and redis.call('ZSCORE', mz, v) then
    removed[v] = true
    changes = 1
    bytes = bytes - #v - #(redis.call('HGET', mm, v) or '') - ${MEMBERSHIP_BYTES}
  end
end
p = p + 1 + tonumber(ARGV[p])
for i = 1, tonumber(ARGV[p]) do
  local v, flagged = ARGV[p + 2 * i - 1], ARGV[p + 2 * i]
  local cycled, meta = string.sub(flagged, 1, 1), string.sub(flagged, 2)
  local listed = redis.call('ZSCORE', mz, v)
  if cycled == '1' or removed[v] or not listed then
    changes = 1
    bytes = bytes + #v + #meta + ${MEMBERSHIP_BYTES}
    if over == '' and cap and not listed and joinPasses(v, gid, cap) then over = v end
  end
end
return { version, bytes, changes, over }
`,
);

/**
 * Settles one batch (ARGV: token, batch size) of a job. A touch job ('t', left by DELETE_RESOURCE) gives the
 * next groups of its list a new version and lastModified, within TOUCH_SCRIPT_BYTES of their records and TOUCH_SCRIPT_GROUPS of them. A
 * staging job ('s') that was never swapped in is dropped whole (UNLINK). A swapped-in or deletion job ('c'): first the new members (`sb`) that were not
 * members before (not in the trash `x`) and still are join the reverse index and get a new version; then
 * the old members (`x`) that are no longer members leave it and get a new version. Each member's reverse
 * entry and version change in the same step. Reply: how much it did (0 = finished, job removed).
 */
export const SETTLE_JOB = linkLua(
  PRELUDE,
  `
local token, batch = ARGV[1], tonumber(ARGV[2])
local job = redis.call('HGET', JOBS, token)
if not job then
  redis.call('ZREM', JOBS_MOVED, token)
  return 0
end
-- The bump job ('v'): first the reverse-index moves left to it (settleMove, within their budget), then the
-- next users of its list get their new version, within bumpUser's budget.
if job == 'v' then
  local moveList, list, done = jobKey(token, 'r'), jobKey(token, 'v'), 0
  while done < batch and moves.bytes < ${REVERSE_SCRIPT_BYTES} and bumps.bytes < ${BUMP_SCRIPT_BYTES} do
    local move = redis.call('LPOP', moveList)
    if not move then break end
    settleMove(move)
    done = done + 1
  end
  while done < batch and bumps.bytes < ${BUMP_SCRIPT_BYTES} do
    local id = redis.call('LPOP', list)
    if not id then break end
    bumpUser(id)
    done = done + 1
  end
  -- settleMove's bumps past their budget go back to the list.
  deferBumps()
  if done == 0 then jobDone(token) else jobMoved(token) end
  return done
end
-- A touch job ('t <iso> <sort value>'): the next groups of its list, within touchWithin's budget.
local iso, sortValue = string.match(job, '^t (%S+) (%S+)$')
if iso then
  local list = jobKey(token, 't')
  local gids = redis.call('LRANGE', list, 0, math.min(batch, ${TOUCH_SCRIPT_GROUPS}) - 1)
  if #gids == 0 then
    jobDone(token)
    return 0
  end
  jobMoved(token)
  local grown, next = touchWithin(gids, 1, iso, sortValue)
  redis.call('LTRIM', list, next - 1, -1)
  redis.call('INCRBY', BYTES, grown)
  return next - 1
end
local phase, gid = string.match(job, '^(%S+) (%S+)$')
if phase == 's' then
  redis.call('UNLINK', jobKey(token, 'st'), jobKey(token, 'sd'), jobKey(token, 'sb'), jobKey(token, 'b'), jobKey(token, 'cap'), jobKey(token, 'base'))
  jobDone(token)
  return 0
end
jobMoved(token)
local mz, trash, sb = mzkey(gid), jobKey(token, 'x'), jobKey(token, 'sb')
-- A write that logs member events has its entry's lists filled here: the new values not in the old list
-- (the kept ones leave the trash, so what remains of it is exactly the removed ones).
local logged = settlingEntry(token)
local added = redis.call('LPOP', sb, batch)
if added then
  local joined = {}
  for _, v in ipairs(added) do
    local was = redis.call('ZSCORE', trash, v)
    if redis.call('ZSCORE', mz, v) and not was then link(v, gid) end
    if logged and was then redis.call('ZREM', trash, v) elseif logged then joined[#joined + 1] = v end
  end
  if #joined > 0 then
    redis.call('RPUSH', evList(logged, 'a'), unpack(joined))
    countOwn(tonumber(logged), listedBytes(joined))
  end
  deferBumps()
  return #added
end
local popped = redis.call('ZPOPMIN', trash, batch)
local gone = {}
for i = 1, #popped, 2 do
  if not redis.call('ZSCORE', mz, popped[i]) then unlink(popped[i], gid) end
  gone[#gone + 1] = popped[i]
end
if logged and #gone > 0 then
  redis.call('RPUSH', evList(logged, 'r'), unpack(gone))
  countOwn(tonumber(logged), listedBytes(gone))
end
deferBumps()
if #popped > 0 then return #popped / 2 end
jobDone(token)
redis.call('HDEL', EVJOBS, token)
return 0
`,
);

/** How long a staging job must not have moved before another write drops it (its writer surely gone). */
export const STAGING_ABANDONED_MS = 3_600_000;

/**
 * The jobs (tokens) that have not moved on for ARGV[1] ms, at most ARGV[2], by Redis's clock: their writers
 * died or stalled part way (jobMoved); a staging job only after STAGING_ABANDONED_MS. Whoever reads them
 * finishes them with SETTLE_JOB, which for a swapped-in list or a touch job is safe beside a writer that is
 * still alive (each batch is atomic and takes its members from the job's lists).
 */
export const STALE_JOBS = linkLua(
  PRELUDE,
  `
local now = redisNowMs()
local stale = redis.call('ZRANGE', JOBS_MOVED, '-inf', now - tonumber(ARGV[1]), 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[2]), 'WITHSCORES')
local out = {}
for i = 1, #stale, 2 do
  -- A staging job is its writer's alone until it swaps: settling one drops the list staged so far, so it
  -- is adopted only once nobody can still be staging it (STAGING_ABANDONED_MS); the others at once.
  local job = redis.call('HGET', JOBS, stale[i]) or ''
  if string.sub(job, 1, 2) ~= 's ' or tonumber(stale[i + 1]) < now - ${STAGING_ABANDONED_MS} then out[#out + 1] = stale[i] end
end
return out
`,
);

/** Shared by the member page scripts: a group's version and member set, and members with their metadata. */
const MEMBERS_PRELUDE = `
local function groupVersion(gid)
  local seq = seqOf('g', gid)
  if not seq then return nil end
  return tonumber(string.match(redis.call('HGET', rhash('g'), seq), '^(%d+)')), mzkey(gid)
end
-- Flat (value, meta or '') pairs.
local function withMeta(gid, values)
  local flat = {}
  if #values == 0 then return flat end
  local metas = redis.call('HMGET', mmkey(gid), unpack(values))
  for i, v in ipairs(values) do
    flat[#flat + 1] = v
    flat[#flat + 1] = metas[i] or ''
  end
  return flat
end
`;

/**
 * A page of group members in insertion order (ARGV: group id, offset, count at most MEMBER_CHUNK). Reply
 * {version, total, flat (value, meta) pairs}, or an empty array when there is no such group.
 */
export const LIST_MEMBERS = linkLua(
  PRELUDE + MEMBERS_PRELUDE,
  `
local gid, offset, count = ARGV[1], tonumber(ARGV[2]), math.min(tonumber(ARGV[3]), ${MEMBER_CHUNK})
local version, mz = groupVersion(gid)
if not version then return {} end
local total = redis.call('ZCARD', mz)
local values = {}
if count > 0 and offset < total then values = redis.call('ZRANGE', mz, offset, math.min(offset + count, total) - 1) end
return { version, total, withMeta(gid, values) }
`,
);

/**
 * A group's members by cursor (ARGV: group id, after position, count ≥ 1, at most MEMBER_CHUNK): those whose
 * position (their score) is above `after`, in list order. Reply {} when the group does not exist, else
 * {version, total, flat (value, meta) pairs, the last position when more follow, else ''}.
 */
export const LIST_MEMBERS_AFTER = linkLua(
  PRELUDE + MEMBERS_PRELUDE,
  `
local gid, count = ARGV[1], math.min(tonumber(ARGV[3]), ${MEMBER_CHUNK})
local version, mz = groupVersion(gid)
if not version then return {} end
local ranked = redis.call('ZRANGE', mz, '(' .. ARGV[2], '+inf', 'BYSCORE', 'LIMIT', 0, count + 1, 'WITHSCORES')
local more = #ranked > 2 * count
local values = {}
for i = 1, math.min(#ranked, 2 * count), 2 do values[#values + 1] = ranked[i] end
return { version, redis.call('ZCARD', mz), withMeta(gid, values), more and fmt(ranked[2 * count]) or '' }
`,
);
