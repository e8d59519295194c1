/**
 * Lua sources of the Redis store. Resource scripts take one key, KEYS[1] = `<prefix>{c:<connectionId>}:`,
 * and derive every other key from it, so that (a) all keys share the connection's hash tag, hence one
 * Cluster slot, and (b) a client-side ioredis `keyPrefix`, applied to KEYS[1], reaches every derived key.
 *
 * Key suffixes under the tag (see redis.ts for the full layout): `conn`, `dying`, `seq`, `attrs`, `member`,
 * `g:dn`, `g:mz:<groupId>`, `g:mm:<groupId>`, `g:mb`, `g:top`, `g:jobs`, `g:j:<token>:<part>`, `bytes`, `<k>:order`,
 * `<k>:r`, `<k>:i:<attribute>`, `<k>:s:<attribute>`, `<k>:sorted`, with `<k>` = `u` (users) or `g` (groups),
 * and the user tombstones `u:gone` (a sorted set of digests scored by deletion time).
 *
 * Sort indexes (docs/sorting.md): `<k>:s:<attribute>` is a sorted set, every score 0, so that it is ordered
 * by member bytes and read by rank (ZRANGE start stop: O(log n + page) whatever the offset). A member is
 * `<value>\0<seq code>` where the value is encodeSortValue's UTF-8 (whose byte order is JavaScript's string
 * order, without NUL bytes) and the seq code is the seq's digit count as one letter then its digits (byte
 * order = numeric order, so equal values keep creation order); a resource without a value is `\255<seq
 * code>`, after every value. `<k>:sorted` is 'done' once every resource of the kind carries its sort entries
 * (set by the first create on an empty kind, or by FILL_SORT_INDEX), or the seq up to which FILL_SORT_INDEX has
 * indexed the resources an earlier version of this library stored; absent with resources: not indexed.
 *
 * Group members (docs/groups.md): `g:mz:<gid>` is a sorted set member value -> insertion seq (order, count,
 * pages by rank), `g:mm:<gid>` a hash member value -> `[display, type]` JSON for the members that have
 * either. No script takes or returns more than a bounded number of members: lists longer than MEMBER_CHUNK
 * are staged in chunks and swapped in with RENAME, and what a swap or a group deletion leaves to tidy (the
 * reverse index, users' versions) is settled by SETTLE_JOB in bounded batches.
 *
 * Inside a connection a resource is addressed by its `seq` (creation counter, decimal): `<k>:order` maps
 * id -> seq (ZSCORE) and ranks by creation; `<k>:r` and the indexes hold seqs instead of ids. A 3-7 digit
 * seq instead of a 36-character id in five places is what keeps a user within the memory target.
 *
 * Every script is its body plus the prelude helpers it calls, linked by src/store/lua-link.ts (Redis runs a
 * script's whole text on each call, so unused helpers would cost every call).
 *
 * Rules kept by every script: resource JSON is an opaque string, only ever cut out with string.sub (never
 * cjson: it would mangle `[]` and large numbers), save the trailing `meta.lastModified` that touchAt sets;
 * replies contain no nil (a nil truncates a Lua array reply), only strings, integers and nested arrays; seqs and group ids are separated by single spaces (the
 * stores reject ids containing whitespace).
 */

import { RECORD_SSO_FUNCTION } from './redis-oidc.js';
import { EVENT_LOG_LUA, READ_EVENTS_BODY } from './redis-event-scripts.js';
import { linkLua } from './lua-link.js';
import { LAST_MODIFIED_SORT_ATTRIBUTE } from './last-modified.js';
import { GROUP_ID_BYTES, GROUP_IDS_PER_PAGE, GROUP_IDS_PER_SCRIPT, GROUP_LEASE_MS, PAGE_READ_BYTES, ROWS_PER_SCRIPT } from './store.js';

/**
 * The one-character codes a row's index entries store instead of the SCIM layer's index attribute names
 * (INDEX_CODE in the prelude below): control characters, which no attribute name holds.
 */
export const INDEX_ATTRIBUTE_CODES: Readonly<Record<string, string>> = {
  userName: '\u0001',
  userNameLocal: '\u0002',
  externalId: '\u0003',
  email: '\u0004',
  displayName: '\u0005',
};

/** INDEX_ATTRIBUTE_CODES as the entries of a Lua table, each code a Lua string literal ('\1' …). */
export function luaIndexCodes(entry: (name: string, code: string) => string): string {
  return Object.entries(INDEX_ATTRIBUTE_CODES)
    .map(([name, code]) => entry(name, `'\\${code.charCodeAt(0)}'`))
    .join(', ');
}

/** How far from its end touchAt looks for a record's `"lastModified":"…"}}` (the value is 24 characters). */
const TOUCH_TAIL = 80;

/**
 * The bytes of group records after which a script stops giving groups a new version and lastModified
 * (touchAt; it finishes the record under way): a deleted member's groups past it (or past TOUCH_SCRIPT_GROUPS of
 * them) are touched by SETTLE_JOB, a batch at a time, so that a user in 1,000 groups of 1 MB each never holds
 * Redis for one long script.
 */
export const TOUCH_SCRIPT_BYTES = 1_000_000;

/**
 * The most group records one script gives a new version and lastModified, however small: a user in 1,000
 * groups of 300 bytes fit TOUCH_SCRIPT_BYTES and held Redis 16-32 ms in one DELETE (audit 24).
 */
export const TOUCH_SCRIPT_GROUPS = 200;

/**
 * How many groups' creation numbers one ZMSCORE reads when a user's groups are derived (groupIdsOf): one
 * command per group was most of a derivation's time (a user in 1,000 groups: 6.6-7.2 ms of Lua a read,
 * measured 2026-12-07). Within Lua's unpack limit (about 8,000 values).
 */
const ZMSCORE_BATCH = 1000;

/**
 * The most bytes of user JSON one login script decodes to learn who is active (activeHolder); past them the
 * app decides, one user a turn (src/store/redis-logins.ts). A login of ordinary holders decodes a few KB.
 */
export const LOGIN_DECODE_BYTES = 256 * 1024;

/**
 * The bytes of user records one script rewrites to give users whose groups changed a new version
 * (bumpUser): each bump copies the whole record. Past it, the rest go to the connection's bump job,
 * settled by the same request (BUMP_JOB).
 */
export const BUMP_SCRIPT_BYTES = 1_000_000;

/** The token of a connection's bump job: the users whose new version a write left for later (SETTLE_JOB). */
export const BUMP_JOB = 'bumps';

/** Helpers shared by every resource script. */
/**
 * The largest row of a kind whose rows key says 'small'. Scripts that read many rows (readRows in
 * PRELUDE) read such a kind in chunks without sizing each row first (100 HSTRLEN calls cost a page of 100
 * users a third more Redis time); any other kind's rows are sized before they are read.
 */
export const SMALL_ROW_BYTES = 8192;

const PRELUDE = `
local base = KEYS[1]
local MEMBER = base .. 'member'
local DN = base .. 'g:dn'
local function order(k) return base .. k .. ':order' end
local function rhash(k) return base .. k .. ':r' end
local function mzkey(gid) return base .. 'g:mz:' .. gid end
local function mmkey(gid) return base .. 'g:mm:' .. gid end
local function leaseKey(gid) return base .. 'g:lease:' .. gid end
local JOBS = base .. 'g:jobs'
-- When each job last moved on (ms, Redis's clock), by token: a job whose writer died stops moving, and
-- STALE_JOBS hands it to whoever finishes it (adoptStaleJobs in src/store/redis-writes.ts).
local JOBS_MOVED = base .. 'g:jobs:moved'
-- Redis's clock in ms: the same for every app instance.
local function redisNowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function jobMoved(token)
  redis.call('ZADD', JOBS_MOVED, redisNowMs(), token)
end
local function jobDone(token)
  redis.call('HDEL', JOBS, token)
  redis.call('ZREM', JOBS_MOVED, token)
end
local function jobKey(token, part) return base .. 'g:j:' .. token .. ':' .. part end
local function ikey(k, attr) return base .. k .. ':i:' .. attr end
local function skey(k, attr) return base .. k .. ':s:' .. attr end
local function sortedKey(k) return base .. k .. ':sorted' end
local function rowsKey(k) return base .. k .. ':rows' end
local GONE = base .. 'u:gone'
local BYTES = base .. 'bytes'
local MB = base .. 'g:mb'
-- Group id -> the highest member position it ever gave (topSeq): kept past the members that held it.
local GTOP = base .. 'g:top'
local function fmt(n) return string.format('%d', tonumber(n)) end
${EVENT_LOG_LUA}

-- Row sizes (SMALL_ROW_BYTES in src/store/redis-scripts.ts): a kind's rows key says 'small' while every row written
-- since the kind was empty is at most ${SMALL_ROW_BYTES} bytes, 'big' once one was larger, nothing for rows an
-- earlier version wrote. created: the row is a new resource's.
local function noteRow(k, row, created)
  if #row > ${SMALL_ROW_BYTES} then
    redis.call('SET', rowsKey(k), 'big')
  elseif created and redis.call('ZCARD', order(k)) <= 1 then
    redis.call('SET', rowsKey(k), 'small', 'NX')
  end
end
-- The rows at seqs of kind k, in order, as far as budget bytes go (at least one; a missing row is false):
-- what one script copies is bounded whatever the rows hold. Small rows are read in chunks that the budget
-- holds (64 bytes over the small size: version bumps add digits), so at most twice the budget is copied;
-- others are sized first (HSTRLEN copies nothing), and one HMGET reads those within the budget.
local function readRows(k, seqs, budget)
  local h, bytes = rhash(k), 0
  if #seqs <= 1 then return #seqs == 0 and {} or redis.call('HMGET', h, seqs[1]) end
  if redis.call('GET', rowsKey(k)) == 'small' then
    local rows, chunk = {}, math.max(1, math.floor(budget / ${SMALL_ROW_BYTES + 64}))
    for from = 1, #seqs, chunk do
      local part = redis.call('HMGET', h, unpack(seqs, from, math.min(from + chunk - 1, #seqs)))
      for j = 1, #part do
        bytes = bytes + (part[j] and #part[j] or 0)
        if bytes > budget and #rows > 0 then return rows end
        rows[#rows + 1] = part[j]
      end
    end
    return rows
  end
  local n = #seqs
  for i = 1, #seqs do
    bytes = bytes + redis.call('HSTRLEN', h, seqs[i])
    if bytes > budget and i > 1 then
      n = i - 1
      break
    end
  end
  return redis.call('HMGET', h, unpack(seqs, 1, n))
end

-- redis.call(cmd, key, items...) in calls of at most 1,000 items: what one unpack takes is bounded. An even
-- size, so (score, member) pairs stay together.
local function callBatched(cmd, key, items)
  for from = 1, #items, 1000 do redis.call(cmd, key, unpack(items, from, math.min(from + 999, #items))) end
end

-- The tombstone of an index value: the first 32 hex digits of SHA-1(attribute NUL value); the same as
-- tombstoneDigest in src/store/store.ts, so a 400 KB value costs 32 bytes.
local function digest(attr, value) return string.sub(redis.sha1hex(attr .. '\0' .. value), 1, 32) end

-- 1 if a deleted user held (attr, value) less than \`retention\` ms before \`now\`, else 0.
local function buried(attr, value, now, retention)
  local at = redis.call('ZSCORE', GONE, digest(attr, value))
  if at and tonumber(at) > now - retention then return 1 end
  return 0
end

-- The index attributes the SCIM layer uses (src/scim/users.ts, src/scim/groups.ts) are stored in a row's
-- index entries as one control character each (attribute names never hold one: assertIndexAttribute), so
-- that a million rows do not each carry 36 bytes of the same names; others are stored as they are.
local INDEX_CODE = { ${luaIndexCodes((name, code) => `${name} = ${code}`)} }
local INDEX_NAME = { ${luaIndexCodes((name, code) => `[${code}] = '${name}'`)} }

-- A row's packed index entries as flat (attribute, value) pairs, attribute names spelt out.
local function unpackIndexes(packed)
  local flat = cmsgpack.unpack(packed)
  for i = 1, #flat, 2 do flat[i] = INDEX_NAME[flat[i]] or flat[i] end
  return flat
end

-- The bytes packed index entries count for (attributes and values; see resourceBytes in src/store/store.ts).
local function idxBytes(packed)
  local n = 0
  local flat = unpackIndexes(packed)
  for i = 1, #flat do n = n + #flat[i] end
  return n
end

-- The seq of resource id, as the decimal string used for hash fields, or nil.
local function seqOf(k, id)
  local score = redis.call('ZSCORE', order(k), id)
  if score then return fmt(score) end
  return nil
end

-- A resource is the value '<version>:<len(id)>:<len(x)>/<len(s)>/<e>:<id><x><s><json>' of field seq in
-- <k>:r, where e is the seq of the event log entry that shares this JSON (see keepShared); without e,
-- '<version>:<len(id)>:<len(x)>/<len(s)>:…', and without e and s, '<version>:<len(id)>:<len(x)>:<id><x><json>'
-- (as every resource was before sort indexes); x = its own index entries (cmsgpack of attr, value pairs;
-- byte-exact, unlike a JSON round trip; attr coded by INDEX_CODE), s = its sort index members (cmsgpack
-- of attr, member pairs).
local function parseRes(r)
  local v, il, xl, p = string.match(r, '^(%d+):(%d+):(%d+)()')
  local sl, e = string.match(r, '^/(%d+)/?(%d*)', p)
  il, xl, sl = tonumber(il), tonumber(xl), tonumber(sl or '0')
  p = string.find(r, ':', p, true) + 1
  return { v = tonumber(v), id = string.sub(r, p, p + il - 1), x = string.sub(r, p + il, p + il + xl - 1),
    s = string.sub(r, p + il + xl, p + il + xl + sl - 1), json = string.sub(r, p + il + xl + sl), e = tonumber(e) }
end
local function packRes(v, id, x, s, json, e)
  local lengths = ''
  if e then lengths = '/' .. #s .. '/' .. fmt(e) elseif s ~= '' then lengths = '/' .. #s end
  return fmt(v) .. ':' .. #id .. ':' .. #x .. lengths .. ':' .. id .. x .. s .. json
end

-- The sort index member of a resource at seq (see the top of redis-scripts.ts): '1' and its encoded value,
-- or '0' when it has none.
local function sortMember(flag, value, seq)
  local code = string.char(64 + #seq) .. seq
  if flag == '1' then return value .. '\\0' .. code end
  return '\\255' .. code
end

-- Adds the sort entries {attr, flag, value} of the resource at seq; returns them packed for its record.
local function addSorted(k, entries, seq)
  if #entries == 0 then return '' end
  local flat, names = {}, {}
  for _, e in ipairs(entries) do
    local member = sortMember(e[2], e[3], seq)
    redis.call('ZADD', skey(k, e[1]), 0, member)
    names[#names + 1] = k .. ':s:' .. e[1]
    flat[#flat + 1] = e[1]
    flat[#flat + 1] = member
  end
  callBatched('SADD', base .. 'attrs', names)
  return cmsgpack.pack(flat)
end

-- addSorted once the kind's sort indexes are switched on (a first sortBy switches them on: SORT_BACKLOG),
-- else nothing: a connection whose clients never sort never pays for sort entries.
local function sortedIfOn(k, entries, seq)
  if redis.call('EXISTS', sortedKey(k)) == 0 then return '' end
  return addSorted(k, entries, seq)
end

-- Removes the sort members packed in a record.
local function removeSorted(k, packed)
  if packed == '' then return end
  local old = cmsgpack.unpack(packed)
  for i = 1, #old, 2 do redis.call('ZREM', skey(k, old[i]), old[i + 1]) end
end

-- Reads n sort entries {attr, flag, value} from ARGV at p; returns them and the next position.
local function readSorted(p, n)
  local entries = {}
  for i = 1, n do
    entries[i] = { ARGV[p], ARGV[p + 1], ARGV[p + 2] }
    p = p + 3
  end
  return entries, p
end

-- Most values are new (a userName, an email): HSETNX sets those in one command.
local function addTo(h, field, item)
  if redis.call('HSETNX', h, field, item) == 1 then return end
  local cur = redis.call('HGET', h, field)
  if not cur or cur == '' then
    redis.call('HSET', h, field, item)
  elseif not string.find(' ' .. cur .. ' ', ' ' .. item .. ' ', 1, true) then
    redis.call('HSET', h, field, cur .. ' ' .. item)
  end
end

local function removeFrom(h, field, item)
  local cur = redis.call('HGET', h, field)
  if not cur then return end
  local rest = {}
  for x in string.gmatch(cur, '%S+') do
    if x ~= item then rest[#rest + 1] = x end
  end
  if #rest == 0 then redis.call('HDEL', h, field) else redis.call('HSET', h, field, table.concat(rest, ' ')) end
end

local function removeIndexes(k, seq, packed)
  local old = unpackIndexes(packed)
  for i = 1, #old, 2 do removeFrom(ikey(k, old[i]), old[i + 1], seq) end
end

-- Increments the version of the resource at seq, rewriting only its '<version>:' header; answers the bytes
-- of the record it rewrote (the whole record is copied).
local function bumpAt(k, seq)
  local s = redis.call('HGET', rhash(k), seq)
  if not s then return 0 end
  local v, p = string.match(s, '^(%d+)()')
  redis.call('HSET', rhash(k), seq, fmt(tonumber(v) + 1) .. string.sub(s, p))
  return #s
end

-- A resource changed by a cascade (a group a deleted member left): version + 1 and meta.lastModified = iso,
-- in its JSON, whose last attribute is meta (src/scim/resource-spec.ts), and in its lastModified sort entry,
-- whose value is sortValue (encoded as redis-codec.ts encodeSortValue does). src/store/last-modified.ts is
-- the memory store's copy. The record is cut by position (parseRes's layout) and only the JSON's last
-- ${TOUCH_TAIL} bytes are searched, so a large group costs one copy of its record, as bumpAt's does.
-- Answers the change in its bytes, and the bytes it wrote: its record, plus the copy of its JSON kept for
-- the log entry sharing it (keepShared).
local function touchAt(k, seq, iso, sortValue)
  local r = redis.call('HGET', rhash(k), seq)
  if not r then return 0, 0 end
  local v, il, xl, p = string.match(r, '^(%d+):(%d+):(%d+)()')
  local sl, e = string.match(r, '^/(%d+)/?(%d*)', p)
  sl = tonumber(sl or '0')
  local idAt = string.find(r, ':', p, true) + 1
  local sAt = idAt + tonumber(il) + tonumber(xl)
  local jsonAt = sAt + sl
  local copied = 0
  if e ~= nil and e ~= '' then copied = keepShared(tonumber(e), string.sub(r, idAt, idAt + tonumber(il) - 1), string.sub(r, jsonAt)) end
  local at = string.find(r, '"lastModified":"', math.max(jsonAt, #r - ${TOUCH_TAIL}), true)
  local tail = '"lastModified":"' .. iso .. '"}}'
  if not at or not string.find(r, '^"lastModified":"[^"]*"}}$', at) then at, tail = #r + 1, '' end
  local sorted = string.sub(r, sAt, jsonAt - 1)
  if sorted ~= '' then
    local flat = cmsgpack.unpack(sorted)
    for i = 1, #flat, 2 do
      if flat[i] == '${LAST_MODIFIED_SORT_ATTRIBUTE}' and string.byte(flat[i + 1], 1) ~= 255 then
        redis.call('ZREM', skey(k, flat[i]), flat[i + 1])
        flat[i + 1] = sortMember('1', sortValue, seq)
        redis.call('ZADD', skey(k, flat[i]), 0, flat[i + 1])
      end
    end
    sorted = cmsgpack.pack(flat)
  end
  local sPart = ''
  if sorted ~= '' then sPart = '/' .. #sorted end
  redis.call('HSET', rhash(k), seq, fmt(tonumber(v) + 1) .. ':' .. il .. ':' .. xl .. sPart .. ':' ..
    string.sub(r, idAt, sAt - 1) .. sorted .. string.sub(r, jsonAt, at - 1) .. tail)
  return #tail - (#r - at + 1), #r + copied
end

-- Touches (touchAt) the live groups gids[from..] until ${TOUCH_SCRIPT_BYTES} bytes of records are rewritten (so at
-- most that plus one record) or ${TOUCH_SCRIPT_GROUPS} groups are; answers the change in bytes and the index of the
-- first group left untouched (#gids + 1: none).
local function touchWithin(gids, from, iso, sortValue)
  local spent, grown = 0, 0
  for i = from, #gids do
    if spent >= ${TOUCH_SCRIPT_BYTES} or i - from >= ${TOUCH_SCRIPT_GROUPS} then return grown, i end
    local gseq = seqOf('g', gids[i])
    if gseq then
      local delta, size = touchAt('g', gseq, iso, sortValue)
      grown, spent = grown + delta, spent + size
    end
  end
  return grown, #gids + 1
end

-- A live user whose derived groups changed gets a new version (RFC 7644 §3.14); other values are ignored.
-- Each bump rewrites the user's record, so past ${BUMP_SCRIPT_BYTES} bytes of them in one script
-- (BUMP_SCRIPT_BYTES) the users left are handed to the connection's bump job (deferBumps, SETTLE_JOB), which
-- the same request settles: 250 users of 200 KB added in one script held Redis 250-300 ms.
local bumps = { bytes = 0, left = {} }
local function bumpUser(value)
  local seq = seqOf('u', value)
  if not seq then return end
  if bumps.bytes >= ${BUMP_SCRIPT_BYTES} then
    bumps.left[#bumps.left + 1] = value
  else
    bumps.bytes = bumps.bytes + bumpAt('u', seq)
  end
end
-- Hands the users left past the budget to the bump job (token BUMP_JOB); true when there were some,
-- for the caller to settle it.
local function deferBumps()
  if #bumps.left == 0 then return false end
  callBatched('RPUSH', jobKey('${BUMP_JOB}', 'v'), bumps.left)
  redis.call('HSET', JOBS, '${BUMP_JOB}', 'v')
  jobMoved('${BUMP_JOB}')
  bumps.left = {}
  return true
end

-- Whether field of hash h (a space-separated list: an index entry, a reverse-index entry) lists at least n
-- items. The entry's length bounds the count (each item is at least one character and a space), so a
-- short list costs one HSTRLEN.
local function listsAtLeast(h, field, n)
  local length = redis.call('HSTRLEN', h, field)
  if length == 0 then return n <= 0 end
  if length < 2 * n - 1 then return false end
  local _, spaces = string.gsub(redis.call('HGET', h, field) or '', ' ', ' ')
  return spaces + 1 >= n
end

-- Whether value joining group gid takes its reverse-index entry past cap groups of ${GROUP_ID_BYTES} bytes
-- each (joinPassesCap in src/store/store.ts): one HSTRLEN, whatever the entry's length.
local function joinPasses(value, gid, cap)
  local length = redis.call('HSTRLEN', MEMBER, value)
  local after = length == 0 and #gid or length + 1 + #gid
  return after > cap * ${GROUP_ID_BYTES} - 1
end

-- Value joins / leaves group gid in the reverse index, and a user's version moves on.
local function link(value, gid)
  addTo(MEMBER, value, gid)
  bumpUser(value)
end
local function unlink(value, gid)
  removeFrom(MEMBER, value, gid)
  bumpUser(value)
end

-- The highest position group gid ever gave a member (0 when none): new members go after it, so a member walk
-- in progress never meets a position it has passed. The list's own top is not enough: once the members at
-- its end left, the next ones took their positions again, and a walk past them missed them (audit 26).
-- noteTop records each top given, in GTOP; groups written before it have none, and their list's top counts.
local function topSeq(gid)
  local top = redis.call('ZRANGE', mzkey(gid), -1, -1, 'WITHSCORES')
  return math.max(tonumber(top[2] or '0'), tonumber(redis.call('HGET', GTOP, gid) or '0'))
end
local function noteTop(gid, top)
  if top > 0 then redis.call('HSET', GTOP, gid, fmt(top)) end
end

-- Whether the connection has a job not yet settled, read once per script: without one, the reverse index
-- matches every group's list exactly.
local jobsMemo = {}
local function unsettled()
  if jobsMemo.any == nil then jobsMemo.any = redis.call('EXISTS', JOBS) == 1 end
  return jobsMemo.any
end
-- Whether value is in group gid's own list: the reverse index says so only once a job that swapped the
-- list in has settled, and a job whose writer died may never be (until SETTLE_JOB is run for it again), so
-- while any job is unsettled every reader of the reverse index confirms each group with it. O(1).
local function listedIn(gid, value)
  return not unsettled() or redis.call('ZSCORE', mzkey(gid), value) ~= false
end

-- What is read beside a resource: a user's groups (id, displayName, in group creation order; O(its
-- groups)), or a group's member count (O(1)); groupIdsOf gives a user's groups' ids alone, and their creation
-- numbers. Most users are in no group: one HGET answers that. Reverse entries of groups that are gone, or
-- whose list no longer holds the user (a job still settling), are skipped. parents may be passed when
-- already read (a page reads them with one HMGET).
local function groupIdsOf(id, parents)
  if parents == nil then parents = redis.call('HGET', MEMBER, id) end
  if not parents then return {}, {} end
  local listed, seqs, bySeq = {}, {}, {}
  for gid in string.gmatch(parents, '%S+') do listed[#listed + 1] = gid end
  -- The groups' creation numbers (unique per group), ZMSCORE_BATCH at a time: one command instead of one per
  -- group; sorted as plain numbers (a comparator over pairs cost as much again).
  for from = 1, #listed, ${ZMSCORE_BATCH} do
    local to = math.min(from + ${ZMSCORE_BATCH} - 1, #listed)
    local scores = redis.call('ZMSCORE', order('g'), unpack(listed, from, to))
    for i = from, to do
      local gseq = scores[i - from + 1]
      if gseq and listedIn(listed[i], id) then
        gseq = tonumber(gseq)
        seqs[#seqs + 1] = gseq
        bySeq[gseq] = listed[i]
      end
    end
  end
  table.sort(seqs)
  local ids = {}
  for i, gseq in ipairs(seqs) do ids[i] = bySeq[gseq] end
  return ids, seqs
end
local function auxOf(k, id, parents)
  if k ~= 'u' then return { fmt(redis.call('ZCARD', mzkey(id))) } end
  local aux = {}
  for _, gid in ipairs(groupIdsOf(id, parents)) do
    aux[#aux + 1] = gid
    aux[#aux + 1] = redis.call('HGET', DN, gid) or ''
  end
  return aux
end
`;

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
 * chunks, or a single '' when unchecked.
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
  end
  -- What the write counts for (resourceBytes in src/store/store.ts), split in parts.
  w.idxBytes, w.memberBytes = 0, 0
  for _, e in ipairs(w.idx) do w.idxBytes = w.idxBytes + #e[1] + #e[2] end
  for _, mm in ipairs(w.members) do w.memberBytes = w.memberBytes + #mm[1] + #mm[2] end
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

-- The quota reply when a non-unique index value of w is already held by q.perValue other resources (mine:
-- the seq of the resource written, nil for a create), or nil. Checked before anything changes; O(1) per
-- entry unless its value is near the cap.
local function crowdRefusal(w, mine)
  local cap = w.quota and w.quota.perValue
  if not cap then return nil end
  for _, e in ipairs(w.idx) do
    local h = ikey(w.k, e[1])
    if e[3] ~= '1' and listsAtLeast(h, e[2], cap) and not (mine and string.find(' ' .. redis.call('HGET', h, e[2]) .. ' ', ' ' .. mine .. ' ', 1, true)) then
      return { 'quota', 'resourcesPerValue', fmt(cap), e[1] }
    end
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

-- Adds the entries for seq and returns them packed for storing with the resource.
local function addIndexes(w, seq)
  local names, seen = {}, {}
  for _, e in ipairs(w.idx) do
    addTo(ikey(w.k, e[1]), e[2], seq)
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
      after = after - #v - #(redis.call('HGET', mm, v) or '')
    end
  end
  for _, m in ipairs(w.add) do
    if removed[m[1]] or not redis.call('ZSCORE', mz, m[1]) then after = after + #m[1] + #m[2] end
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

/** Users whose reverse-index entries a page reads per HMGET, checking its budget between two. */
const PAGE_ENTRIES_CHUNK = 20;

/** Creates a resource: connection must exist, id and unique index values must be free. Reply {status, detail}. */
export const CREATE_RESOURCE = linkLua(
  WRITE_PRELUDE,
  `
local w = parseWrite()
if redis.call('EXISTS', base .. 'conn') == 0 then return { 'not_found' } end
if seqOf(w.k, w.id) then return { 'uniqueness', 'id' } end
local taken = conflict(w, nil)
if taken then return { 'uniqueness', taken } end
local members = 0
if w.k == 'g' then
  members = membersAfter(w, 0)
  if not members then return { 'staging_lost' } end
end
local bytes = #w.json + w.idxBytes + members
local refused = quotaRefusal(w, true, bytes) or joinRefusal(w) or crowdRefusal(w, nil)
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
if w.expected and cur.v ~= w.expected then return { 'version_mismatch', cur.v } end
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
local refused = quotaRefusal(w, false, delta) or joinRefusal(w) or (changed and crowdRefusal(w, seq))
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
if w.k == 'u' then return { 'ok', cur.v + 1, auxOf('u', w.id) } end
if deferBumps() then return { 'ok', cur.v + 1, '${BUMP_JOB}' } end
return { 'ok', cur.v + 1 }
`,
);

/** Most tombstones past their retention that one delete drops (TOMBSTONE_TRIM_BUDGET in src/store/store.ts). */
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
 * (deleted, with a touch job to settle), 0, or {'version_mismatch', v}.
 */
export const DELETE_RESOURCE = linkLua(
  PRELUDE,
  `
local k, id, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local seq = seqOf(k, id)
if not seq then return 0 end
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
local left = {}
if #listing > 0 then
  local touched = {}
  for _, gid in ipairs(listing) do
    if redis.call('ZREM', mzkey(gid), id) == 1 then
      local cost = #id + #(redis.call('HGET', mmkey(gid), id) or '')
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

/**
 * Read helper: one resource as {id, json, version, aux} where aux is, for a user, flat (groupId, displayName)
 * pairs in group creation order, and for a group, {member count} (members are read by LIST_MEMBERS).
 */
const READ_PRELUDE = `${PRELUDE}
local function load(k, seq, withoutGroups)
  local s = redis.call('HGET', rhash(k), seq)
  if not s then return nil end
  local r = parseRes(s)
  return { r.id, r.json, r.v, (withoutGroups and k == 'u') and { '-' } or auxOf(k, r.id) }
end

-- The groups of users ids[1..n], as auxOf reads them, as far as ${GROUP_IDS_PER_SCRIPT} bytes of their
-- reverse-index entries go (GROUP_IDS_PER_SCRIPT in src/store/store.ts): the first user in some group
-- always, then each whose entry still fits; the others get {'*'}, which the caller reads with USER_GROUPS.
-- entries: the users' entries when the caller read them already (false: in no group); else each is read
-- here, once (an entry is at most maxGroupsPerMember ids long).
local function groupsWithin(ids, n, entries)
  local aux, spent = {}, 0
  for i = 1, n do
    local parents
    if entries then parents = entries[i] else parents = redis.call('HGET', MEMBER, ids[i]) end
    local length = parents and #parents or 0
    if length == 0 then
      aux[i] = {}
    elseif spent == 0 or spent + length <= ${GROUP_IDS_PER_SCRIPT} then
      spent = spent + length
      aux[i] = auxOf('u', ids[i], parents)
    else
      aux[i] = { '*' }
    end
  end
  return aux
end

-- The resources of kind k at seqs (in that order) as {id, json, version, aux}, read as far as
-- ${PAGE_READ_BYTES} bytes go (readRows; PAGE_READ_BYTES); the others come back deferred, {id, '', -1, {}},
-- for the caller to read one script each. Users' groups as groupsWithin gives them. ids: the resources' ids
-- when the caller has them (else a deferred one's is found by its seq).
local function loadAll(k, seqs, ids, withoutGroups)
  local rows, out, loaded = readRows(k, seqs, ${PAGE_READ_BYTES}), {}, {}
  for i, s in ipairs(seqs) do
    if i > #rows then
      local id = ids and ids[i] or redis.call('ZRANGE', order(k), s, s, 'BYSCORE')[1]
      if id then out[#out + 1] = { id, '', -1, {} } end
    elseif rows[i] then
      local r = parseRes(rows[i])
      out[#out + 1] = { r.id, r.json, r.v }
      loaded[#loaded + 1] = out[#out]
    end
  end
  if withoutGroups and k == 'u' then
    for _, r in ipairs(loaded) do r[4] = { '-' } end
    return out
  end
  local names = {}
  for i, r in ipairs(loaded) do names[i] = r[1] end
  local aux = k == 'u' and groupsWithin(names, #names) or {}
  for i, r in ipairs(loaded) do r[4] = k == 'u' and aux[i] or auxOf(k, r[1]) end
  return out
end

-- The resources that index value (attr, value) of kind k points at, in creation order (loadAll: up to 100
-- holders, each up to a resource's limit, are never copied by one script).
local function findAll(k, attr, value, withoutGroups)
  local seqs = {}
  for s in string.gmatch(redis.call('HGET', ikey(k, attr), value) or '', '%S+') do seqs[#seqs + 1] = s end
  table.sort(seqs, function(a, b) return tonumber(a) < tonumber(b) end)
  return loadAll(k, seqs, nil, withoutGroups)
end

-- Whether a loaded user (findAll's {id, json, version, aux}) is active by the activity attribute: its JSON
-- decodes and does not hold the attribute as false (isActiveUser). nil when it was deferred, does not decode,
-- or would take the script's decoding past ${LOGIN_DECODE_BYTES} bytes (budget.left; LOGIN_DECODE_BYTES): the
-- caller then decides in the app, a user at a time (cjson took about 35 ms a megabyte, and 100 holders of
-- 0.8 MB would have held Redis for seconds).
local function activeHolder(u, activity, budget)
  if u[3] == -1 or #u[2] > budget.left then return nil end
  budget.left = budget.left - #u[2]
  local ok, doc = pcall(cjson.decode, u[2])
  if not ok or type(doc) ~= 'table' then return nil end
  return doc[activity] ~= false
end

-- The users a login's index value points at (findAll), with the groups of the only one a login can admit:
-- the one active holder; none when two or more are active (ambiguous) or none is. The others' aux is {'-'}:
-- groups not read. Reading every holder's groups made one login of a value held by 100 users in 1,000 groups
-- each derive 100,000 memberships (an audit, 2026-12-07); a session needs the admitted user's only.
-- Returns the users, how many are active (nil when one was deferred or does not decode: the caller decides
-- then), and the active one when it is alone; each holder's JSON is decoded once.
local function loginHolders(attr, value, activity)
  local users, active, admissible, unsure = findAll('u', attr, value, true), 0, nil, false
  local budget = { left = ${LOGIN_DECODE_BYTES} }
  for _, u in ipairs(users) do
    local isActive = activeHolder(u, activity, budget)
    if isActive == nil then
      unsure = true
    elseif isActive then
      active = active + 1
      admissible = u
    end
  end
  if active == 1 then admissible[4] = groupsWithin({ admissible[1] }, 1)[1] end
  return users, (not unsure) and active or nil, active == 1 and admissible or nil
end
`;

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
 * The login guard's whole lookup (ARGV: attribute, value, now ms, retention ms, the activity attribute): the
 * users that index value points at, in creation order (loginHolders: the groups of the one a login can admit
 * only), and 1 if a deleted user left a tombstone for it within the retention (else 0). Reply {users, 0|1}.
 */
export const FIND_USERS_FOR_LOGIN = linkLua(
  READ_PRELUDE,
  `
-- A connection being deleted (its record renamed away) holds nobody, whatever its sweep has not reached.
if redis.call('EXISTS', base .. 'conn') == 0 then return { {}, 0 } end
local users = loginHolders(ARGV[1], ARGV[2], ARGV[5])
return { users, buried(ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])) }
`,
);

/**
 * The login guard's decision step (KEYS[1] = the connection's tag, KEYS[2] = the customer's SSO user hash,
 * KEYS[3] = its seen set, KEYS[4] = its bytes count; ARGV: '1' to look up or '0', attribute, value, now ms, retention ms, the activity
 * attribute, subject, firstSeenAt, the attempt's JSON without its outcome fields, its seen score, the most SSO
 * users the customer keeps):
 * FIND_USERS_FOR_LOGIN's lookup (loginHolders), then the outcome of loginOutcome (src/store/store.ts) from it, recorded as
 * RECORD_SSO_USER records. Reading a user's activity is the one place a script decodes resource JSON
 * (cjson, read only, never re-encoded); a user it cannot decode leaves the attempt unrecorded (reply flag
 * 0) for the caller to record. The connection's key and the SSO keys are in different Cluster slots: the
 * Redis store runs this on standalone Redis only. Reply {users,
 * 0|1 tombstone, 1|0 recorded, outcome, reason or '', scim user id or ''}.
 */
export const LOGIN_AND_RECORD = linkLua(
  READ_PRELUDE,
  `
${RECORD_SSO_FUNCTION}
local users, n, admissible, gone = {}, 0, nil, 0
-- A connection being deleted (its record renamed away) admits nobody, whatever its sweep has not reached.
if ARGV[1] == '1' and redis.call('EXISTS', base .. 'conn') == 1 then
  users, n, admissible = loginHolders(ARGV[2], ARGV[3], ARGV[6])
  gone = buried(ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]))
end
-- A deferred user (findAll's budget) or one that does not decode: the caller decides and records.
if n == nil then return { users, gone, 0, '', '', '' } end
local outcome, reason, id = 'refused', nil, nil
-- The local part of a userName matches different people: any two are ambiguous (matchesDistinctPeople).
if n > 1 or (ARGV[2] == 'userNameLocal' and #users > 1) then reason = 'ambiguous'
elseif n == 1 then outcome, id = 'admitted', admissible[1]
elseif #users > 0 then reason, id = 'deactivated', users[#users][1]
elseif gone == 1 then reason = 'deleted'
else reason = 'not_provisioned' end
local json = string.sub(ARGV[9], 1, -2) .. ',"lastOutcome":"' .. outcome .. '","lastReason":' ..
  (reason and ('"' .. reason .. '"') or 'null') .. ',"lastScimUserId":' .. (id and cjson.encode(id) or 'null') .. '}'
recordSso(KEYS[2], KEYS[3], KEYS[4], ARGV[7], ARGV[8], json, ARGV[10], ARGV[11], ARGV[12])
return { users, gone, 1, outcome, reason or '', id or '' }
`,
);

/**
 * FIND_USERS_FOR_LOGIN for many lookups, read in bulk (ARGV: now ms, retention ms, '1' to read the users' groups
 * or '0' (an empty groups item then, nothing deferred), then per index attribute:
 * the attribute, how many values, the values; at most MEMBER_CHUNK values in all): one HMGET per attribute,
 * one for the rows of every user found (each once), and their groups as groupsWithin reads them. The reply is eight
 * items, whatever the number of lookups (a reply of many small items costs the client more than the data):
 * {seqs, rows, groups, refs, tombstones, deferred, answered, oversized}. rows are the stored rows of the users found (as LIST_PAGE returns
 * them) and seqs their seqs, space-separated; groups is flat: for each row in some group, its position,
 * how many groups, then (group id, displayName) pairs; refs lists per lookup, comma-separated and in ARGV
 * order, the 1-based row positions of what it found, space-separated and in creation order; tombstones has
 * one character per lookup, 1 if a deleted user held its value, looked up only when it found no user (a
 * digest costs more than the rest of a lookup, and it is consulted only then) and the connection has
 * tombstones at all, else 0. deferred lists the rows whose groups this script left out (past
 * GROUP_IDS_PER_SCRIPT), space-separated: the caller reads them with USER_GROUPS, so no script holds Redis
 * for long however many groups the users found are in. The seventh item is how many lookups, in ARGV order,
 * this script answered: it stops before the lookup whose users' rows would pass PAGE_READ_BYTES (at least
 * one), and the caller sends the rest again. The eighth is '' unless the first lookup alone passes
 * PAGE_READ_BYTES: then the creation numbers of its users, space-separated (every other item empty, the
 * seventh 0), for the caller to read one row per script.
 */
export const FIND_USERS_FOR_LOGIN_BATCH = linkLua(
  READ_PRELUDE,
  `
local now, retention, withGroups = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3] == '1'
local attrs, values, held = {}, {}, {}
local a = 4
while a <= #ARGV do
  local attr, count = ARGV[a], tonumber(ARGV[a + 1])
  local got = redis.call('HMGET', ikey('u', attr), unpack(ARGV, a + 2, a + 1 + count))
  for j = 1, count do
    attrs[#attrs + 1] = attr
    values[#values + 1] = ARGV[a + 1 + j]
    held[#held + 1] = got[j] or ''
  end
  a = a + 2 + count
end
local n, bytes = #held, 0
local seqs, position, found = {}, {}, {}
for i = 1, n do
  local list, before = {}, #seqs
  for s in string.gmatch(held[i], '%S+') do
    if not position[s] then
      seqs[#seqs + 1] = s
      position[s] = #seqs
    end
    list[#list + 1] = s
  end
  -- The new rows are sized before they are read: past ${PAGE_READ_BYTES} bytes (PAGE_READ_BYTES), this lookup
  -- and the rest are left to the caller's next script; a first lookup that passes it alone (up to 100 heavy
  -- holders) is answered with its holders' creation numbers only, for the caller to read one row per script.
  for j = before + 1, #seqs do bytes = bytes + redis.call('HSTRLEN', rhash('u'), seqs[j]) end
  if #list > 1 then table.sort(list, function(x, y) return tonumber(x) < tonumber(y) end) end
  if bytes > ${PAGE_READ_BYTES} then
    if i == 1 then return { '', {}, {}, '', '', '', 0, table.concat(list, ' ') } end
    for j = #seqs, before + 1, -1 do
      position[seqs[j]] = nil
      seqs[j] = nil
    end
    n = i - 1
    break
  end
  found[i] = list
end
local rows, live, ids, kept = {}, {}, {}, {}
for from = 1, #seqs, ${MEMBER_CHUNK} do
  local part = redis.call('HMGET', rhash('u'), unpack(seqs, from, math.min(from + ${MEMBER_CHUNK} - 1, #seqs)))
  for j = 1, #part do
    local row = part[j]
    if row then
      rows[#rows + 1] = row
      live[from + j - 1] = #rows
      kept[#rows] = seqs[from + j - 1]
      local idLength, p = string.match(row, '^%d+:(%d+):[%d/]+:()')
      ids[#rows] = string.sub(row, p, p + tonumber(idLength) - 1)
    end
  end
end
local groups, deferred = {}, {}
local aux = withGroups and redis.call('EXISTS', MEMBER) == 1 and groupsWithin(ids, #ids) or {}
for i, a in ipairs(aux) do
  if #a == 1 then
    deferred[#deferred + 1] = i
  elseif #a > 0 then
    groups[#groups + 1] = i
    groups[#groups + 1] = #a / 2
    for _, v in ipairs(a) do groups[#groups + 1] = v end
  end
end
local anyGone = redis.call('EXISTS', GONE) == 1
local refs, gone = {}, {}
for i = 1, n do
  local at = {}
  for _, s in ipairs(found[i]) do
    local p = live[position[s]]
    if p then at[#at + 1] = p end
  end
  refs[i] = table.concat(at, ' ')
  gone[i] = ((anyGone and #at == 0) and buried(attrs[i], values[i], now, retention) or 0) == 1 and '1' or '0'
end
return { table.concat(kept, ' '), rows, groups, table.concat(refs, ','), table.concat(gone), table.concat(deferred, ' '), n, '' }
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

/**
 * Page helper: the stored rows at `seqs` as they are (one HMGET; the caller splits them byte-exactly, which
 * is cheaper than cutting 100 JSON strings in Lua), and each row's groups or member count. For users, aux
 * stays empty when no user of the page is in a group (always, in a connection without memberships): the
 * caller reads a missing entry as no groups. `ids`: the rows' ids when the caller has them, else they are
 * cut from the rows. Users' groups are as groupsWithin gives them (some may be {'*'}: read them with
 * USER_GROUPS). The page ends early, after at least one row, where its rows would pass `rowBytes`
 * (ReadOptions.rowBytes in src/store/store.ts; at most PAGE_READ_BYTES) or its users' reverse-index entries ${GROUP_IDS_PER_PAGE}
 * bytes (GROUP_IDS_PER_PAGE), keptWithin's rule: fewer rows come back than seqs went in.
 */
const PAGE_PRELUDE = `${READ_PRELUDE}
local function pageOf(k, seqs, ids, withGroups, rowBytes, groupIds)
  if #seqs == 0 then return {}, {} end
  -- Read within the budget whatever the rows hold (readRows; PAGE_READ_BYTES in src/store/store.ts).
  local rows, aux = readRows(k, seqs, math.min(rowBytes or ${PAGE_READ_BYTES}, ${PAGE_READ_BYTES})), {}
  local n = #rows
  if not ids then
    ids = {}
    for i = 1, n do
      local row, id = rows[i], ''
      if row then
        local il, p = string.match(row, '^%d+:(%d+):[%d/]+:()')
        id = string.sub(row, p, p + tonumber(il) - 1)
      end
      ids[i] = id
    end
  end
  if k ~= 'u' then
    for i = 1, n do aux[i] = auxOf(k, ids[i]) end
  elseif withGroups and redis.call('EXISTS', MEMBER) == 1 then
    -- The users' entries, ${PAGE_ENTRIES_CHUNK} per HMGET, until the page's budget is passed: a page of users
    -- in few groups is read in a few calls, and one of heavy users copies little past where it ends.
    local entries, total, kept, any = {}, 0, n, false
    for from = 1, n, ${PAGE_ENTRIES_CHUNK} do
      local part = redis.call('HMGET', MEMBER, unpack(ids, from, math.min(from + ${PAGE_ENTRIES_CHUNK} - 1, n)))
      for j = 1, #part do
        local i = from + j - 1
        local length = part[j] and #part[j] or 0
        total = total + length
        if total > math.min(groupIds or ${GROUP_IDS_PER_PAGE}, ${GROUP_IDS_PER_PAGE}) and i > 1 then
          kept = i - 1
          break
        end
        entries[i] = part[j]
        any = any or length > 0
      end
      if kept < n then break end
    end
    for j = #rows, kept + 1, -1 do rows[j] = nil end
    if any then aux = groupsWithin(ids, kept, entries) end
  end
  return rows, aux
end
`;

/**
 * Reads one page in creation order (ARGV: kind, offset, count, '0' to leave users' groups out, the most bytes
 * of rows or '' for no limit). Reply
 * {total, rows, aux}: the page's stored
 * rows as they are (the caller splits `<v>:<len id>:<len x>[/<len s>]:<id><x><s><json>`), and each row's
 * groups or member count.
 */
export const LIST_PAGE = linkLua(
  PAGE_PRELUDE,
  `
local k, offset, count = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local total = redis.call('ZCARD', order(k))
local rows, aux = {}, {}
if count > 0 and offset < total then
  -- Clamped to the total so that a huge count never reaches ZRANGE as a float-formatted number.
  local ranked = redis.call('ZRANGE', order(k), offset, math.min(offset + count, total) - 1, 'WITHSCORES')
  local seqs, ids = {}, {}
  -- A score is a seq from INCR, an integer far below 2^53, which Redis writes as its digits: the field as is.
  for i = 1, #ranked, 2 do
    ids[#ids + 1] = ranked[i]
    seqs[#seqs + 1] = ranked[i + 1]
  end
  rows, aux = pageOf(k, seqs, ids, ARGV[4] ~= '0', tonumber(ARGV[5]))
end
return { total, rows, aux }
`,
);

/**
 * Reads one page in a sort order (ARGV: kind, sort attribute or '' for creation order, '1' descending or
 * '0', offset, count, '0' to leave users' groups out, the most bytes of rows or '' for no limit): the ranks of sortedRun in src/store/store.ts, read with ZRANGE by rank (O(log n +
 * page) whatever the offset). Reply {total, rows, aux} as LIST_PAGE, or {-1, {}, {}} when the kind holds
 * resources not indexed yet (see `<k>:sorted`).
 */
export const LIST_SORTED = linkLua(
  PAGE_PRELUDE,
  `
local k, attr, descending, offset, count = ARGV[1], ARGV[2], ARGV[3] == '1', tonumber(ARGV[4]), tonumber(ARGV[5])
local key = order(k)
if attr ~= '' then
  if redis.call('GET', sortedKey(k)) ~= 'done' and redis.call('ZCARD', order(k)) > 0 then return { -1, {}, {} } end
  key = skey(k, attr)
end
local total = redis.call('ZCARD', key)
local seqs = {}
-- Appends the seqs at ascending ranks [from, to), backwards when reverse.
local function run(from, to, reverse)
  local got = redis.call('ZRANGE', key, from, to - 1, 'WITHSCORES')
  local first, last, step = 1, #got - 1, 2
  if reverse then first, last, step = #got - 1, 1, -2 end
  for i = first, last, step do
    if attr == '' then seqs[#seqs + 1] = fmt(got[i + 1]) else seqs[#seqs + 1] = string.match(got[i], '(%d+)$') end
  end
end
local stop = math.min(total, offset + count)
if offset < stop then
  if descending then run(total - stop, total - offset, true) else run(offset, stop, false) end
end
local rows, aux = pageOf(k, seqs, nil, ARGV[6] ~= '0', tonumber(ARGV[7]))
return { total, rows, aux }
`,
);

/** The most bytes of rows one SORT_BACKLOG read takes (it ends before the row that would pass them, after the first). */
export const SORT_BACKLOG_BYTES = 1_000_000;

/**
 * The sort backlog (ARGV: kind, count): up to count resources after the `<k>:sorted` cursor in creation
 * order, within SORT_BACKLOG_BYTES of rows, and the rows among them stored without sort members. Without a
 * `<k>:sorted` marker the kind's sort indexes are off; this read switches them on. Reply {1, 0, {}} when
 * the kind's sort indexes are complete, else {0, the last seq read (the cursor when none), rows}.
 */
export const SORT_BACKLOG = linkLua(
  PRELUDE,
  `
local k, count = ARGV[1], tonumber(ARGV[2])
if redis.call('EXISTS', base .. 'conn') == 0 then return { 1, 0, {} } end
local marker = redis.call('GET', sortedKey(k))
if marker == 'done' then return { 1, 0, {} } end
-- The first read switches the kind's sort indexes on: from now on every write keeps its sort entries, and
-- the backlog is what was stored before (everything, or nothing for an empty kind).
if not marker then
  marker = redis.call('ZCARD', order(k)) == 0 and 'done' or '0'
  redis.call('SET', sortedKey(k), marker)
  if marker == 'done' then return { 1, 0, {} } end
end
local through = tonumber(marker)
local ranked = redis.call('ZRANGEBYSCORE', order(k), '(' .. fmt(through), '+inf', 'WITHSCORES', 'LIMIT', 0, count)
local seqs, rows = {}, {}
for i = 2, #ranked, 2 do seqs[#seqs + 1] = fmt(ranked[i]) end
if #seqs > 0 then
  through = tonumber(seqs[#seqs])
  -- The read ends past ${SORT_BACKLOG_BYTES} bytes of rows (after at least one, readRows): the app decodes
  -- and parses what it gets in one go, and 500 users of 60 KB are 30 MB.
  local read = readRows(k, seqs, ${SORT_BACKLOG_BYTES})
  if #read < #seqs then through = tonumber(seqs[#read]) end
  for _, row in ipairs(read) do
    -- Without sort members: no sort length, or 0 (a row naming its event entry, packRes).
    if row and not string.match(row, '^%d+:%d+:%d+/[1-9]') then rows[#rows + 1] = row end
  end
end
return { 0, through, rows }
`,
);

/**
 * Stores sort entries for resources a SORT_BACKLOG read returned (ARGV: kind, through, n, then per
 * resource: id, version, m, m×(attr, '1' and the encoded value | '0' and '')), each only if it is still at
 * that version and still has no sort members, then moves `<k>:sorted` past through ('done' when nothing
 * follows). Reply 'done', 'more', or 'retry' (a resource changed: the cursor stays).
 */
export const FILL_SORT_INDEX = linkLua(
  PRELUDE,
  `
local k, through = ARGV[1], tonumber(ARGV[2])
if redis.call('EXISTS', base .. 'conn') == 0 then return 'done' end
local marker = redis.call('GET', sortedKey(k))
if marker == 'done' then return 'done' end
local p, retry = 4, false
for _ = 1, tonumber(ARGV[3]) do
  local id, version = ARGV[p], tonumber(ARGV[p + 1])
  local entries
  entries, p = readSorted(p + 3, tonumber(ARGV[p + 2]))
  local seq = seqOf(k, id)
  if seq then
    local cur = parseRes(redis.call('HGET', rhash(k), seq))
    if cur.s == '' and cur.v ~= version then retry = true
    elseif cur.s == '' then
      local row = packRes(cur.v, cur.id, cur.x, addSorted(k, entries, seq), cur.json, cur.e)
      redis.call('HSET', rhash(k), seq, row)
      noteRow(k, row, false)
    end
  end
end
if retry then return 'retry' end
if redis.call('ZCOUNT', order(k), '(' .. fmt(through), '+inf') == 0 then
  redis.call('SET', sortedKey(k), 'done')
  return 'done'
end
if tonumber(marker or '0') < through then redis.call('SET', sortedKey(k), fmt(through)) end
return 'more'
`,
);

/**
 * A page by cursor (ARGV: kind, after seq, count ≥ 1, '0' to leave users' groups out): up to count resources created after that seq, in
 * creation order, O(log n + count). Reply {seqs, rows, aux, 1 when more follow else 0}.
 */
export const LIST_AFTER = linkLua(
  PAGE_PRELUDE,
  `
local k, count = ARGV[1], tonumber(ARGV[3])
local ranked = redis.call('ZRANGE', order(k), '(' .. ARGV[2], '+inf', 'BYSCORE', 'LIMIT', 0, count + 1, 'WITHSCORES')
local seqs, ids = {}, {}
for i = 1, math.min(#ranked, 2 * count), 2 do
  ids[#ids + 1] = ranked[i]
  seqs[#seqs + 1] = fmt(ranked[i + 1])
end
-- ARGV[5], ARGV[6]: the row bytes and group ids the page may still hold (listAfter reads a page in parts).
local rows, aux = pageOf(k, seqs, ids, ARGV[4] ~= '0', tonumber(ARGV[5]), tonumber(ARGV[6]))
local cut = #rows < #seqs
for j = #seqs, #rows + 1, -1 do seqs[j] = nil end
return { seqs, rows, aux, (cut or #ranked > 2 * count) and 1 or 0 }
`,
);

/**
 * The positions of up to ARGV[2] + 1 users after creation number ARGV[1]: flat (id, seq) pairs (pickUsersAfter).
 * With ARGV[3] = '1', also each user's folded userName from its row's index entries (never its JSON), as
 * {cut, flat (id, seq, userName or '') triples}: the rows are read within ${PAGE_READ_BYTES} bytes (readRows), and
 * cut = 1 when that budget ended the list early.
 */
export const USER_POSITIONS_AFTER = linkLua(
  PRELUDE,
  `
local ranked = redis.call('ZRANGE', order('u'), '(' .. ARGV[1], '+inf', 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[2]) + 1, 'WITHSCORES')
if ARGV[3] ~= '1' then return ranked end
local seqs = {}
for i = 2, #ranked, 2 do seqs[#seqs + 1] = ranked[i] end
local rows, named = readRows('u', seqs, ${PAGE_READ_BYTES}), {}
for i = 1, #rows do
  local row, name = rows[i], ''
  if row then
    local il, xl, p = string.match(row, '^%d+:(%d+):(%d+)()')
    p = string.find(row, ':', p, true) + 1 + tonumber(il)
    local flat = unpackIndexes(string.sub(row, p, p + tonumber(xl) - 1))
    for j = 1, #flat, 2 do
      if flat[j] == 'userName' then
        name = flat[j + 1]
        break
      end
    end
  end
  named[#named + 1], named[#named + 2], named[#named + 3] = ranked[2 * i - 1], ranked[2 * i], name
end
return { #rows < #seqs and 1 or 0, named }
`,
);

/**
 * The users at the given positions, as LIST_AFTER reads a page (pickUsersAfter). ARGV[1]: '0' without their
 * groups; ARGV[2], ARGV[3]: the row bytes and group ids the page may still hold; then (seq, id) pairs. Reply
 * {rows, aux}: a row deleted meanwhile is false, and the rows stop where the budget did (at least one).
 */
export const USERS_AT = linkLua(
  PAGE_PRELUDE,
  `
local seqs, ids = {}, {}
for i = 4, #ARGV, 2 do
  seqs[#seqs + 1] = ARGV[i]
  ids[#ids + 1] = ARGV[i + 1]
end
local rows, aux = pageOf('u', seqs, ids, ARGV[1] ~= '0', tonumber(ARGV[2]), tonumber(ARGV[3]))
return { rows, aux }
`,
);

/**
 * Deletes up to ARGV[1] users, then groups, of a connection being deleted; once none are left, deletes the
 * indexes and bookkeeping keys. Reply: how many resources it deleted (0 = finished).
 */
export const SWEEP_CONNECTION = linkLua(
  PRELUDE,
  `
for _, k in ipairs({ 'u', 'g' }) do
  local ranked = redis.call('ZRANGE', order(k), 0, tonumber(ARGV[1]) - 1, 'WITHSCORES')
  if #ranked > 0 then
    for i = 1, #ranked, 2 do
      redis.call('HDEL', rhash(k), fmt(ranked[i + 1]))
      if k == 'g' then redis.call('UNLINK', mzkey(ranked[i]), mmkey(ranked[i]), leaseKey(ranked[i])) end
      redis.call('ZREM', order(k), ranked[i])
    end
    return #ranked / 2
  end
end
-- Unsettled jobs (staging or trash lists, the groups a touch job and the users the bump job have left);
-- UNLINK frees large values off the main thread.
local jobs = redis.call('HKEYS', JOBS)
for i = 1, math.min(#jobs, tonumber(ARGV[1])) do
  for _, part in ipairs({ 'st', 'sd', 'sb', 'b', 'x', 'cap', 'base', 't', 'v' }) do redis.call('UNLINK', jobKey(jobs[i], part)) end
  jobDone(jobs[i])
end
if #jobs > 0 then return math.min(#jobs, tonumber(ARGV[1])) end
-- The event log's member lists, then the log.
local owned = redis.call('ZRANGE', EVLISTS, 0, tonumber(ARGV[1]) - 1)
for _, seq in ipairs(owned) do
  redis.call('UNLINK', evList(seq, 'r'), evList(seq, 'a'))
  redis.call('ZREM', EVLISTS, seq)
end
if #owned > 0 then return #owned end
redis.call('UNLINK', EV, EVLAST, EVSINCE, EVJOBS, EVLISTS, EVJSON, EVJQ, EVBYTES, EVFREED, EVOWN, EVHELD, base .. 'ev:cursors', base .. 'ev:leases')
for _, suffix in ipairs(redis.call('SMEMBERS', base .. 'attrs')) do redis.call('UNLINK', base .. suffix) end
redis.call('UNLINK', base .. 'attrs', MEMBER, DN, base .. 'seq', order('u'), order('g'), rhash('u'), rhash('g'),
  sortedKey('u'), sortedKey('g'), rowsKey('u'), rowsKey('g'), GONE, BYTES, MB, GTOP, JOBS_MOVED, base .. 'dying')
return 0
`,
);

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
    bytes = bytes + #v + #meta
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
    bytes = bytes - #v - #(redis.call('HGET', mm, v) or '')
  end
end
p = p + 1 + tonumber(ARGV[p])
for i = 1, tonumber(ARGV[p]) do
  local v, flagged = ARGV[p + 2 * i - 1], ARGV[p + 2 * i]
  local cycled, meta = string.sub(flagged, 1, 1), string.sub(flagged, 2)
  local listed = redis.call('ZSCORE', mz, v)
  if cycled == '1' or removed[v] or not listed then
    changes = 1
    bytes = bytes + #v + #meta
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
-- The bump job ('v'): the next users of its list get their new version, within bumpUser's budget.
if job == 'v' then
  local list, done = jobKey(token, 'v'), 0
  while done < batch and bumps.bytes < ${BUMP_SCRIPT_BYTES} do
    local id = redis.call('LPOP', list)
    if not id then break end
    bumpUser(id)
    done = done + 1
  end
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

/** Reads a page of the event log (see READ_EVENTS_BODY in redis-event-scripts.ts). */
export const READ_EVENTS = linkLua(PRELUDE, READ_EVENTS_BODY);
