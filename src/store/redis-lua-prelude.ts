/**
 * What every Lua script of the Redis store shares: the key layout, the rules every script keeps, and the
 * preludes (PRELUDE, READ_PRELUDE) whose helpers linkLua links into each script. The scripts themselves
 * are in redis-write-scripts.ts, redis-read-scripts.ts, redis-login-scripts.ts, redis-page-scripts.ts,
 * redis-member-scripts.ts and redis-connection-scripts.ts (redis-scripts.ts lists them).
 *
 * Resource scripts take one key, KEYS[1] = `<prefix>{c:<connectionId>}:`,
 * and derive every other key from it, so that (a) all keys share the connection's hash tag, hence one
 * Cluster slot, and (b) a client-side ioredis `keyPrefix`, applied to KEYS[1], reaches every derived key.
 *
 * Key suffixes under the tag (see redis.ts for the full layout): `conn`, `dying`, `seq`, `attrs`, `member`,
 * `g:dn`, `g:mz:<groupId>`, `g:mm:<groupId>`, `g:mb`, `g:top`, `g:jobs`, `g:j:<token>:<part>`, `bytes`, `<k>:order`,
 * `<k>:r`, `<k>:i:<attribute>`, `<k>:s:<attribute>`, `<k>:sorted`, with `<k>` = `u` (users) or `g` (groups),
 * the user tombstones `u:gone` (a sorted set of digests scored by deletion time), and `u:lp`, the login
 * projections of large users (seq -> `<version>:<id length>:<id><projection JSON>`: loginProjectionOf in
 * src/store/login-outcome.ts; only users of at least LOGIN_PROJECTION_CHARS have one), which a login reads
 * instead of their rows (loginHolders in redis-login-scripts.ts).
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

import { EVENT_LOG_LUA } from './redis-event-scripts.js';
import { LAST_MODIFIED_SORT_ATTRIBUTE } from './last-modified.js';
import { GROUP_ID_BYTES, GROUP_IDS_PER_SCRIPT, PAGE_READ_BYTES } from './read-budgets.js';
import { LOGIN_PROJECTION_CHARS } from './login-outcome.js';
import { CROWDED_REPLY } from './crowded-values.js';

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
 * The bytes of user records one script rewrites to give users whose groups changed a new version
 * (bumpUser): each bump copies the whole record. Past it, the rest go to the connection's bump job,
 * settled by the same request (BUMP_JOB).
 */
export const BUMP_SCRIPT_BYTES = 1_000_000;

/** The bytes of reverse-index entries one script rewrites (link, unlink); past it, the bump job moves the rest. */
export const REVERSE_SCRIPT_BYTES = 1_000_000;

/** The token of a connection's bump job: the users whose new version a write left for later (SETTLE_JOB). */
export const BUMP_JOB = 'bumps';

/**
 * The largest row of a kind whose rows key says 'small'. Scripts that read many rows (readRows in
 * PRELUDE) read such a kind in chunks without sizing each row first (100 HSTRLEN calls cost a page of 100
 * users a third more Redis time); any other kind's rows are sized before they are read.
 */
export const SMALL_ROW_BYTES = 8192;

/** Helpers shared by every resource script. */
export const PRELUDE = `
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
local LP = base .. 'u:lp'
local BYTES = base .. 'bytes'
local MB = base .. 'g:mb'
-- Group id -> the highest member position it ever gave (topSeq): kept past the members that held it.
local GTOP = base .. 'g:top'
local function fmt(n) return string.format('%d', tonumber(n)) end
${EVENT_LOG_LUA}

-- Row sizes (SMALL_ROW_BYTES above): a kind's rows key says 'small' while every row written
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
-- tombstoneDigest in src/store/tombstones.ts, so a 400 KB value costs 32 bytes.
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

-- The bytes packed index entries count for (attributes and values; see resourceBytes in src/store/write-weights.ts).
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
-- A user's login projection as the write scripts keep it in LP beside its row (w.lp: '' when the write
-- sent none), and as loginHolders reads it: {id, projection JSON, version}. A write that sends none for a user
-- whose old JSON could have had one (${LOGIN_PROJECTION_CHARS} bytes or more) drops the old one.
local function keepProjection(w, seq, version, oldJson)
  if w.lp ~= '' then
    redis.call('HSET', LP, seq, fmt(version) .. ':' .. #w.id .. ':' .. w.id .. w.lp)
  elseif oldJson and #oldJson >= ${LOGIN_PROJECTION_CHARS} then
    redis.call('HDEL', LP, seq)
  end
end
local function parseProjection(p)
  local v, il, at = string.match(p, '^(%d+):(%d+):()')
  il = tonumber(il)
  return { string.sub(p, at, at + il - 1), string.sub(p, at + il), tonumber(v) }
end

-- The sort index member of a resource at seq (see the top of src/store/redis-lua-prelude.ts): '1' and its encoded value,
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

-- Index and reverse-index entries are items joined by single spaces. Where item stands in entry cur
-- (start and end), or nil: a plain find with a check of the characters either side, so that neither a
-- copy of the entry nor a table of its items is made (a reverse entry holds up to 1,000 group ids, 37 KB:
-- splitting it per member removed held Redis 190 ms for 250 members leaving a group, audit 2026-12-07).
local function findItem(cur, item, from)
  while true do
    local s, e = string.find(cur, item, from, true)
    if not s then return nil end
    if (s == 1 or string.byte(cur, s - 1) == 32) and (e == #cur or string.byte(cur, e + 1) == 32) then return s, e end
    from = s + 1
  end
end

-- Most values are new (a userName, an email): HSETNX sets those in one command.
-- Answers the length of the entry it read (0 for none), which is what the move cost.
local function addTo(h, field, item)
  if redis.call('HSETNX', h, field, item) == 1 then return 0 end
  local cur = redis.call('HGET', h, field)
  if not cur or cur == '' then
    redis.call('HSET', h, field, item)
  elseif not findItem(cur, item, 1) then
    redis.call('HSET', h, field, cur .. ' ' .. item)
  end
  return cur and #cur or 0
end

-- Removes item from the entry (each time it is listed, though addTo lists it once), with the space beside it.
-- Answers the length of the entry it read (0 for none).
local function removeFrom(h, field, item)
  local cur = redis.call('HGET', h, field)
  if not cur then return 0 end
  local read = #cur
  local s, e = findItem(cur, item, 1)
  if not s and cur ~= '' then return read end
  while s do
    if s == 1 then cur = string.sub(cur, e + 2) else cur = string.sub(cur, 1, s - 2) .. string.sub(cur, e + 1) end
    s, e = findItem(cur, item, math.max(1, s - 1))
  end
  if cur == '' then redis.call('HDEL', h, field) else redis.call('HSET', h, field, cur) end
  return read
end

-- An index entry is '[+<unlisted> ]<seq> <seq>...': the holders it lists, and how many more hold the value
-- unlisted once it is crowded (src/store/crowded-values.ts). Answers unlisted and the listed part.
local function splitHolders(entry)
  local n, listed = string.match(entry, '^%+(%d+) ?(.*)$')
  if n then return tonumber(n), listed end
  return 0, entry
end

local function joinHolders(unlisted, listed)
  if unlisted == 0 then return listed end
  return '+' .. fmt(unlisted) .. (listed == '' and '' or ' ' .. listed)
end

-- Adds holder seq to index value (h, value): listed while fewer than cap are listed, else counted (cap nil:
-- always listed); withHolder in src/store/crowded-values.ts.
local function addHolder(h, value, seq, cap)
  if redis.call('HSETNX', h, value, seq) == 1 then return end
  local cur = redis.call('HGET', h, value)
  local unlisted, listed = splitHolders(cur)
  if listed ~= '' and findItem(listed, seq, 1) then return end
  local full = false
  if cap and listed ~= '' and #listed >= 2 * cap - 1 then
    local _, spaces = string.gsub(listed, ' ', ' ')
    full = spaces + 1 >= cap
  end
  if full then unlisted = unlisted + 1 else listed = listed == '' and seq or listed .. ' ' .. seq end
  redis.call('HSET', h, value, joinHolders(unlisted, listed))
end

-- Removes holder seq from index value (h, value): from the list when listed, else from the unlisted count
-- (the caller knows seq held it: one of the resource's own entries); withoutHolder in crowded-values.ts.
local function removeHolder(h, value, seq)
  local cur = redis.call('HGET', h, value)
  if not cur then return end
  local unlisted, listed = splitHolders(cur)
  local s, e = findItem(listed, seq, 1)
  if s then
    if s == 1 then listed = string.sub(listed, e + 2) else listed = string.sub(listed, 1, s - 2) .. string.sub(listed, e + 1) end
  elseif unlisted > 0 then
    unlisted = unlisted - 1
  end
  local entry = joinHolders(unlisted, listed)
  if entry == '' then redis.call('HDEL', h, value) elseif entry ~= cur then redis.call('HSET', h, value, entry) end
end

local function removeIndexes(k, seq, packed)
  local old = unpackIndexes(packed)
  for i = 1, #old, 2 do removeHolder(ikey(k, old[i]), old[i + 1], seq) end
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
-- A user is bumped once per script, however many of its memberships the script moves (a PATCH removing and
-- adding it again moves two), as the memory store does once per write.
local bumps = { bytes = 0, left = {}, seen = {} }
local function bumpUser(value)
  if bumps.seen[value] then return end
  bumps.seen[value] = true
  local seq = seqOf('u', value)
  if not seq then return end
  if bumps.bytes >= ${BUMP_SCRIPT_BYTES} then
    bumps.left[#bumps.left + 1] = value
  else
    bumps.bytes = bumps.bytes + bumpAt('u', seq)
  end
end
-- Reverse-index moves are weighed by the entries they rewrite: a member's entry lists up to 1,000 group ids
-- (37 KB), and Redis copies it into Lua and back for each move, so 250 such members leaving a group in one
-- script held Redis 190 ms (audit, 2026-12-07). Past ${REVERSE_SCRIPT_BYTES} bytes of entries (REVERSE_SCRIPT_BYTES)
-- the moves left go to the bump job as "<gid> <value>" (settleMove), which the same request settles. Until
-- then the job is unsettled, so readers of the reverse index confirm each group with its list (listedIn).
local moves = { bytes = 0, left = {} }

-- Value's entry made to list gid (join) or not, and a user's version moved on.
local function applyMove(value, gid, join)
  moves.bytes = moves.bytes + #gid + (join and addTo(MEMBER, value, gid) or removeFrom(MEMBER, value, gid))
  bumpUser(value)
end
-- Value joins / leaves group gid in the reverse index: now, or past the budget through the bump job.
local function moveOrDefer(value, gid, join)
  if moves.bytes >= ${REVERSE_SCRIPT_BYTES} then
    moves.left[#moves.left + 1] = gid .. ' ' .. value
  else
    applyMove(value, gid, join)
  end
end
local function link(value, gid) moveOrDefer(value, gid, true) end
local function unlink(value, gid) moveOrDefer(value, gid, false) end

-- A deferred move settled: value's entry lists gid exactly when group gid lists value then, whatever writes
-- came between (a later unlink found nothing to remove, or a later link found gid listed already).
local function settleMove(move)
  local gid, value = string.match(move, '^(%S+) (.*)$')
  applyMove(value, gid, redis.call('ZSCORE', mzkey(gid), value) ~= false)
end

-- Hands the users left past the budget, and the reverse-index moves, to the bump job (token BUMP_JOB); true
-- when there were some, for the caller to settle it.
local function deferBumps()
  if #bumps.left == 0 and #moves.left == 0 then return false end
  if #bumps.left > 0 then callBatched('RPUSH', jobKey('${BUMP_JOB}', 'v'), bumps.left) end
  if #moves.left > 0 then callBatched('RPUSH', jobKey('${BUMP_JOB}', 'r'), moves.left) end
  redis.call('HSET', JOBS, '${BUMP_JOB}', 'v')
  jobMoved('${BUMP_JOB}')
  bumps.left, moves.left = {}, {}
  return true
end

-- Whether value joining group gid takes its reverse-index entry past cap groups of ${GROUP_ID_BYTES} bytes
-- each (joinPassesCap in src/store/read-budgets.ts): one HSTRLEN, whatever the entry's length.
local function joinPasses(value, gid, cap)
  local length = redis.call('HSTRLEN', MEMBER, value)
  local after = length == 0 and #gid or length + 1 + #gid
  return after > cap * ${GROUP_ID_BYTES} - 1
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
 * Read helper: one resource as {id, json, version, aux} where aux is, for a user, flat (groupId, displayName)
 * pairs in group creation order, and for a group, {member count} (members are read by LIST_MEMBERS).
 */
export const READ_PRELUDE = `${PRELUDE}
local function load(k, seq, withoutGroups)
  local s = redis.call('HGET', rhash(k), seq)
  if not s then return nil end
  local r = parseRes(s)
  return { r.id, r.json, r.v, (withoutGroups and k == 'u') and { '-' } or auxOf(k, r.id) }
end

-- The groups of users ids[1..n], as auxOf reads them, as far as ${GROUP_IDS_PER_SCRIPT} bytes of their
-- reverse-index entries go (GROUP_IDS_PER_SCRIPT in src/store/read-budgets.ts): the first user in some group
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

-- The seqs an index entry lists, in creation order, and whether more hold its value unlisted (crowded).
local function listedSeqs(entry)
  local unlisted, listed = splitHolders(entry or '')
  local seqs = {}
  for s in string.gmatch(listed, '%S+') do seqs[#seqs + 1] = s end
  table.sort(seqs, function(a, b) return tonumber(a) < tonumber(b) end)
  return seqs, unlisted > 0
end

-- The seqs that index value (attr, value) of kind k points at, in creation order, and whether it is crowded.
local function seqsAt(k, attr, value)
  return listedSeqs(redis.call('HGET', ikey(k, attr), value))
end

-- The reply of a lookup of a crowded value: an error the store turns into CrowdedValueError.
local function crowdedReply(attr)
  return redis.error_reply('${CROWDED_REPLY} ' .. attr)
end

-- The resources that index value (attr, value) of kind k points at, in creation order (loadAll: up to 100
-- holders, each up to a resource's limit, are never copied by one script); a crowded value: crowdedReply.
local function findAll(k, attr, value, withoutGroups)
  local seqs, crowded = seqsAt(k, attr, value)
  if crowded then return crowdedReply(attr) end
  return loadAll(k, seqs, nil, withoutGroups)
end
`;
