/**
 * Lua of the Redis store's durable event log (docs/events.md), under the connection's hash tag:
 *
 *   ev            STREAM  one entry per logged write, id `<ms>-<seq>` (ms never decreases, seq counts the
 *                         connection's logged writes): k (u|g), then s (the resource's seq: its JSON is
 *                         shared, below) or, for a deletion, id; ty (its own event type or ''), ch (changed
 *                         attributes, JSON text, or '' for 'all'), and for member events ma, mr (types) with
 *                         r, a (cmsgpack lists of the values removed, added) or x (the job token of a staged
 *                         list, whose changes are in ev:r:<seq> / ev:a:<seq>). Entries written by earlier
 *                         versions of this library carry id and j (the JSON) instead of s, and are read as such.
 *   ev:last       STRING  the id of the last entry (kept when trimming empties the stream)
 *   ev:since      STRING  the ms of the log's first entry: a cursor from before it is an earlier connection's
 *   ev:jobs       HASH    job token -> seq, while SETTLE_JOB still fills that entry's lists
 *   ev:lists      ZSET    seq -> seq of the entries that own ev:r:<seq> / ev:a:<seq> (trimmed with them)
 *   ev:r:<seq>    LIST    the values a staged write removed, in the old list's order
 *   ev:a:<seq>    LIST    the values a staged write added, in the new list's order
 *   ev:j          HASH    seq -> '<id> <JSON>': the resource as entry seq logged it, once its row has moved on
 *   ev:held       ZSET    seq -> seq of the entries that hold a copy in ev:j or a count in ev:ob: what freeing
 *                         walks once they are dropped, skipping the entries that hold neither
 *   ev:jq         LIST    copies made before ev:held existed, by seq in the order made (freed from the head)
 *   ev:ob         HASH    seq -> the bytes an entry lists of its own: its changed names and member values when
 *                         they reach COUNTED_ENTRY_BYTES, and the values of its ev:r / ev:a lists, as they fill
 *   ev:jb         STRING  the bytes of the copies in ev:j (their values' lengths) and of ev:ob's values:
 *                         what maxEventBytes bounds
 *   ev:jf         STRING  (earlier versions) the first seq whose copy was not freed yet; no longer read
 *
 * Shared JSON: an entry does not copy the resource JSON its write stored. The row (`<k>:r`, redis-lua-prelude.ts)
 * names the entry that logged its JSON (`e` in its header), and a read of that entry takes the JSON from the
 * row. Before a script rewrites or deletes a row, keepShared copies the JSON to ev:j under that entry's seq,
 * if the log still holds the entry; a row whose JSON no entry logged (a write that logs nothing, a cascade's
 * lastModified) names none. So the log costs one copy of a resource only for the versions that were
 * replaced while their entries are kept, and a connection's initial provisioning costs no copy at all.
 *
 * Every write script appends at most ONE entry, whatever its member changes: an inline list (at most
 * MEMBER_CHUNK members) is packed in the entry; a staged one (docs/groups.md) is expanded by the bounded
 * batches of SETTLE_JOB, which already compares the old and new lists, and a read that meets an entry whose
 * job has not finished settles it first. Reads expand entries into events in O(page).
 *
 * EVENT_LOG_LUA needs `base`, `fmt` and `JOBS` (the resource PRELUDE) before it. The event arguments are
 * the LAST ones of a write script's ARGV (so they never shift the script's own arguments): now ms,
 * retention ms, most writes kept, own type or '', changed JSON, member-added type or '', member-removed
 * type, most bytes of copies kept, then their count 8 — or a single 0 when the write asks for no events
 * (one that asks may still log nothing: logsEvents).
 */
import { COUNTED_ENTRY_BYTES, EVENT_READ_BYTES } from './event-log.js';

/** Most log entries one READ_EVENTS script walks past, holding events or not, before it answers. */
export const EVENT_SCAN_ENTRIES = 1000;

/** How many entries one trim may drop by count (time-based trimming drops whole stream nodes). */
const COUNT_TRIM_BUDGET = 64;

export const EVENT_LOG_LUA = `
local EV, EVLAST, EVJOBS, EVLISTS = base .. 'ev', base .. 'ev:last', base .. 'ev:jobs', base .. 'ev:lists'
local EVSINCE = base .. 'ev:since'
local EVJSON, EVJQ, EVBYTES, EVFREED = base .. 'ev:j', base .. 'ev:jq', base .. 'ev:jb', base .. 'ev:jf'
local EVOWN, EVHELD = base .. 'ev:ob', base .. 'ev:held'
local function evList(seq, part) return base .. 'ev:' .. part .. ':' .. seq end
local function seqOfEntry(id) return tonumber(string.match(id, '%-(%d+)$')) end
-- The ms and seq of the last entry, read once per script (an append notes the entry it adds).
local lastMemo = {}
local function lastEntry()
  if not lastMemo.seq then
    local ms, seq = string.match(redis.call('GET', EVLAST) or '0-0', '^(%d+)-(%d+)$')
    lastMemo.ms, lastMemo.seq = tonumber(ms), tonumber(seq)
  end
  return lastMemo.ms, lastMemo.seq
end
-- The ms and seq of the oldest entry kept (nil, nil when the log is empty), read once per script: trimEvents
-- forgets them when it drops entries, and an append to an empty log makes its entry the oldest.
local keptMemo = {}
-- The bytes ev:jb counts after this script last added to it (keepShared, countOwn), or nil when it did not.
local copiedMemo = {}
local function firstEntry()
  if not keptMemo.read then
    local first = redis.call('XRANGE', EV, '-', '+', 'COUNT', 1)[1]
    keptMemo.read = true
    if first then
      local ms, seq = string.match(first[1], '^(%d+)-(%d+)$')
      keptMemo.ms, keptMemo.seq = tonumber(ms), tonumber(seq)
    end
  end
  return keptMemo.ms, keptMemo.seq
end
-- The seq of the oldest entry kept, or the last seq + 1 when none is.
local function firstKept()
  local _, seq = firstEntry()
  if seq then return seq end
  local _, last = lastEntry()
  return last + 1
end

-- The bytes of the values listed.
local function listedBytes(values)
  local n = 0
  for _, v in ipairs(values) do n = n + #v end
  return n
end
-- Counts bytes that kept entry seq lists of its own (ev:ob) against maxEventBytes, with the copies.
local function countOwn(seq, bytes)
  if bytes <= 0 or seq < firstKept() then return end
  redis.call('HINCRBY', EVOWN, fmt(seq), bytes)
  redis.call('ZADD', EVHELD, seq, fmt(seq))
  copiedMemo.total = redis.call('INCRBY', EVBYTES, bytes)
end
-- Frees the copy of entry seq's JSON and the count of what it listed of its own; answers the bytes freed.
local function freeEntry(seq)
  local size = redis.call('HSTRLEN', EVJSON, fmt(seq))
  if size > 0 then redis.call('HDEL', EVJSON, fmt(seq)) end
  local own = tonumber(redis.call('HGET', EVOWN, fmt(seq)) or '0')
  if own > 0 then redis.call('HDEL', EVOWN, fmt(seq)) end
  redis.call('ZREM', EVHELD, fmt(seq))
  return size + own
end

-- Drops entries past the retention (exact: whole stream nodes go in O(1) each) and over the count (at
-- most ${COUNT_TRIM_BUDGET} per write), then the side data of dropped entries: the member lists of at most 8,
-- and the copies and counts of at most ${COUNT_TRIM_BUDGET} entries that hold one (ev:held). Copies an earlier
-- version listed in ev:jq are freed from its head, in the order they were made.
-- Most writes drop nothing, and that is known from the oldest entry alone: its ms against the retention, and
-- its seq against the last one (seqs grow by one per entry and only the head is trimmed, so the log holds at
-- most last - first + 1 entries). The side data is then looked at only by every 16th write, for what an
-- earlier write's budgets left.
local function trimEvents(ev, seq)
  local firstMs, firstSeq = firstEntry()
  local dropped = 0
  if firstMs and ev.now > ev.retention and firstMs < ev.now - ev.retention then
    dropped = redis.call('XTRIM', EV, 'MINID', '=', fmt(ev.now - ev.retention))
  end
  if firstSeq and seq - firstSeq + 1 - dropped > ev.max then
    local held = redis.call('XLEN', EV)
    if held > ev.max then dropped = dropped + redis.call('XTRIM', EV, 'MAXLEN', '=', held - math.min(held - ev.max, ${COUNT_TRIM_BUDGET})) end
  end
  if dropped > 0 then keptMemo = {} end
  -- The bytes counted (copies and what entries list of their own), looked at when this script added to them
  -- (keepShared and countOwn noted the total), when entries were dropped, or by every 16th write (for copies
  -- a script that logs nothing made, and lists SETTLE_JOB filled): most writes read nothing.
  local copied = copiedMemo.total
  if not copied and (dropped > 0 or seq % 16 == 0) then copied = tonumber(redis.call('GET', EVBYTES) or '0') end
  local counted = copied
  -- Copies and counts of dropped entries are freed ${COUNT_TRIM_BUDGET} entries per write, found in ev:held: a
  -- million dropped entries that hold nothing (most do) cost nothing to pass, so what is counted soon
  -- matches the entries kept again (owed until then: what it counts is not all theirs). Walking every dropped
  -- seq, as before 2026-12-06, kept the byte bound off for a write per 64 of them (a review found a
  -- retention trim of 3,000 small entries let the log hold 37 times maxEventBytes meanwhile).
  local owed = false
  if copied then
    local below = redis.call('ZRANGE', EVHELD, '-inf', '(' .. fmt(firstKept()), 'BYSCORE', 'LIMIT', 0, ${COUNT_TRIM_BUDGET})
    for _, s in ipairs(below) do copied = copied - freeEntry(tonumber(s)) end
    owed = #below == ${COUNT_TRIM_BUDGET}
    -- Copies an earlier version listed in ev:jq, in the order made, are freed from its head before the bound
    -- is judged (a review found them counted against the entries kept), when entries were dropped or by every
    -- 16th write; owed while its head is still a dropped entry's.
    if dropped > 0 or seq % 16 == 0 then
      local head = redis.call('LINDEX', EVJQ, 0)
      if head and tonumber(head) < firstKept() then
        local queued, n = redis.call('LRANGE', EVJQ, 0, ${COUNT_TRIM_BUDGET - 1}), 0
        while n < #queued and tonumber(queued[n + 1]) < firstKept() do
          n = n + 1
          copied = copied - redis.call('HSTRLEN', EVJSON, queued[n])
        end
        redis.call('HDEL', EVJSON, unpack(queued, 1, n))
        redis.call('LTRIM', EVJQ, n, -1)
        local after = redis.call('LINDEX', EVJQ, 0)
        owed = owed or (after ~= false and tonumber(after) < firstKept())
      end
    end
  end
  -- Over maxEventBytes (and nothing owed): the oldest entries go, at most ${COUNT_TRIM_BUDGET} per write and never
  -- this write's, with their copies and counts, until what is counted fits.
  if copied and not owed and copied > ev.maxBytes then
    local kept, n = firstKept(), 0
    local most = math.min(${COUNT_TRIM_BUDGET}, seq - kept)
    while n < most and copied > ev.maxBytes do
      copied = copied - freeEntry(kept + n)
      n = n + 1
    end
    if n > 0 then
      redis.call('XTRIM', EV, 'MAXLEN', '=', redis.call('XLEN', EV) - n)
      keptMemo = {}
      dropped = dropped + n
    end
  end
  -- A counter that began below what earlier versions had copied never goes under 0.
  if copied and (copied ~= counted or copied < 0) then redis.call('SET', EVBYTES, math.max(copied, 0)) end
  if dropped == 0 and seq % 16 ~= 0 then return end
  local owned = redis.call('ZRANGE', EVLISTS, 0, 7)
  for _, listed in ipairs(owned) do
    if tonumber(listed) >= firstKept() then break end
    redis.call('UNLINK', evList(listed, 'r'), evList(listed, 'a'))
    redis.call('ZREM', EVLISTS, listed)
  end
end

-- Whether the write m (nil for a deletion) logs an entry: it has events, and one of them is its own (a type)
-- or a member change it made. Member events are asked for by every write that sends members, but an entry
-- whose list changed nothing would hold no event and still take a seq and a share of every page read (a
-- staged list's changes are known once it settles: it logs).
local function logsEvents(m)
  local n = tonumber(ARGV[#ARGV])
  if n == 0 then return false end
  local p = #ARGV - n
  if ARGV[p + 3] ~= '' then return true end
  if ARGV[p + 5] == '' or not m then return false end
  return m.mode == 'staged' or #(m.gone or {}) > 0 or #(m.joined or {}) > 0
end

-- The seq the entry of the write m will have, or nil when it logs nothing: the row it writes names it
-- (shared JSON, above).
local function entrySeq(m)
  if not logsEvents(m) then return nil end
  local _, seq = lastEntry()
  return seq + 1
end

-- Called before a row's JSON is rewritten or deleted, with the entry seq e its header names (or nil), its
-- id and JSON: while the log holds that entry, the entry keeps a copy. Answers the bytes copied.
local function keepShared(e, id, json)
  if not e or e < firstKept() then return 0 end
  -- A row that was copied no longer names its entry (writeRowAndEntry, touchAt), so an entry is copied once;
  -- HSETNX keeps the first copy, the version the entry logged, should that ever change.
  local value = id .. ' ' .. json
  if redis.call('HSETNX', EVJSON, fmt(e), value) == 0 then return 0 end
  redis.call('ZADD', EVHELD, e, fmt(e))
  copiedMemo.total = redis.call('INCRBY', EVBYTES, #value)
  return #json
end

-- Appends the write's entry (rseq: the seq of the resource written, whose row shares its JSON with the
-- entry, or nil for a deletion, whose entry names the id; m: the write, with the member values it removed
-- and added in m.gone / m.joined, or its staged list's job token in m.token). Called once, at the end of a
-- successful write script, so the entry exists exactly when the write does.
local function appendEvents(k, id, rseq, m)
  if not logsEvents(m) then return end
  local n = tonumber(ARGV[#ARGV])
  local p = #ARGV - n
  local ev = { now = tonumber(ARGV[p]), retention = tonumber(ARGV[p + 1]), max = tonumber(ARGV[p + 2]), maxBytes = tonumber(ARGV[p + 7]) }
  local lastMs, lastSeq = lastEntry()
  local seq = lastSeq + 1
  local entry = fmt(math.max(ev.now, lastMs)) .. '-' .. fmt(seq)
  local fields = { 'k', k, 'id', id, 'ty', ARGV[p + 3], 'ch', ARGV[p + 4] }
  if rseq then fields[3], fields[4] = 's', rseq end
  if ARGV[p + 5] ~= '' then
    for _, f in ipairs({ 'ma', ARGV[p + 5], 'mr', ARGV[p + 6] }) do fields[#fields + 1] = f end
    if m and m.mode == 'staged' then
      for _, f in ipairs({ 'x', m.token }) do fields[#fields + 1] = f end
      redis.call('HSET', EVJOBS, m.token, fmt(seq))
      redis.call('ZADD', EVLISTS, seq, fmt(seq))
    else
      for _, f in ipairs({ 'r', cmsgpack.pack(m and m.gone or {}), 'a', cmsgpack.pack(m and m.joined or {}) }) do fields[#fields + 1] = f end
    end
  end
  redis.call('XADD', EV, entry, unpack(fields))
  -- What the entry lists of its own (COUNTED_ENTRY_BYTES in src/store/event-log.ts: entryOwnBytes), counted
  -- once the entry is the last kept.
  local own = #ARGV[p + 4]
  if ARGV[p + 5] ~= '' and m and m.mode ~= 'staged' then own = own + listedBytes(m.gone or {}) + listedBytes(m.joined or {}) end
  redis.call('SET', EVLAST, entry)
  if seq == 1 then redis.call('SET', EVSINCE, fmt(math.max(ev.now, lastMs))) end
  lastMemo.ms, lastMemo.seq = math.max(ev.now, lastMs), seq
  if keptMemo.read and not keptMemo.seq then keptMemo.ms, keptMemo.seq = lastMemo.ms, seq end
  if own >= ${COUNTED_ENTRY_BYTES} then countOwn(seq, own) end
  trimEvents(ev, seq)
end

-- SETTLE_JOB's part: the log entry whose member lists job token fills, or nil.
local function settlingEntry(token)
  local seq = redis.call('HGET', EVJOBS, token)
  if seq and redis.call('ZSCORE', EVLISTS, seq) then return seq end
  return nil
end
`;

/**
 * Reads events (ARGV: cursor or '', limit). Reply {'expired'}, {'unsettled', token} (an entry whose staged
 * list is still settling: settle it, then read again), or {'ok', entries[, 1]} (1: the script stopped after
 * EVENT_SCAN_ENTRIES entries, whatever they held: read on); each entry {id, k, resource id,
 * json or '', 1|0 has json, own type, changed, added type, removed type, total events, first index returned,
 * removed values returned, added values returned}. Entries without an event left to return
 * are listed too, so the caller's cursor moves past them.
 */
export const READ_EVENTS_BODY = `
-- A connection being deleted (its record renamed away) has an empty log, whatever its sweep has left.
if redis.call('EXISTS', base .. 'conn') == 0 then return { 'ok', {} } end
local limit = tonumber(ARGV[2])
-- The bytes of resource JSON this page may still copy (what earlier scripts of the same page left).
local budget = math.min(tonumber(ARGV[3]) or ${EVENT_READ_BYTES}, ${EVENT_READ_BYTES})
local start, cursorId, skip = '-', nil, -1
if ARGV[1] ~= '' then
  local ms, seq, index = string.match(ARGV[1], '^(%d+)-(%d+)%.?(%d*)$')
  -- A cursor from before this log began (an earlier connection of the customer) stands before its first
  -- entry: its seq is the other log's (cursorInLog, src/store/event-log.ts).
  local since = tonumber(redis.call('GET', EVSINCE) or '')
  if since and tonumber(ms) < since then
    if firstKept() > 1 then return { 'expired' } end
  else
    if firstKept() > tonumber(seq) + (index == '' and 1 or 0) then return { 'expired' } end
    cursorId = ms .. '-' .. seq
    if index == '' then start = '(' .. cursorId else start, skip = cursorId, tonumber(index) end
  end
end
-- The resource id and JSON of entry seq (fields f), or nil for a deletion: from the row while it still
-- names the entry, else from the copy keepShared made (see "Shared JSON" above).
local function loggedResource(f, seq)
  if not f.s then return f.id, f.j end
  local row = redis.call('HGET', rhash(f.k), f.s)
  -- A row naming an entry always has the '<v>:<len id>:<len x>/<len s>/<e>:' header (packRes).
  local il, xl, sl, e, p = string.match(row or '', '^%d+:(%d+):(%d+)/(%d+)/(%d+):()')
  if e == seq then
    il = tonumber(il)
    return string.sub(row, p, p + il - 1), string.sub(row, p + il + tonumber(xl) + tonumber(sl))
  end
  local saved = redis.call('HGET', EVJSON, seq)
  if not saved then error('the event log lost the resource of entry ' .. seq) end
  local at = string.find(saved, ' ', 1, true)
  return string.sub(saved, 1, at - 1), string.sub(saved, at + 1)
end
local out, count, bytes, scanned = {}, 0, 0, 0
while count < limit do
  local batch = redis.call('XRANGE', EV, start, '+', 'COUNT', 16)
  if #batch == 0 then break end
  for _, e in ipairs(batch) do
    -- Entries holding no event to return (written by earlier versions for member lists that changed
    -- nothing) are passed without reading their JSON; past ${EVENT_SCAN_ENTRIES} in one script, the page
    -- so far is answered with 'more', and the caller reads on.
    scanned = scanned + 1
    if scanned > ${EVENT_SCAN_ENTRIES} then return { 'ok', out, 1 } end
    local id, f = e[1], {}
    for i = 1, #e[2], 2 do f[e[2][i]] = e[2][i + 1] end
    start = '(' .. id
    local seq = fmt(seqOfEntry(id))
    local own = f.ty ~= '' and 1 or 0
    local removed, added, nr, na = nil, nil, 0, 0
    if f.x then
      if redis.call('HEXISTS', JOBS, f.x) == 1 then return { 'unsettled', f.x } end
      nr, na = redis.call('LLEN', evList(seq, 'r')), redis.call('LLEN', evList(seq, 'a'))
    elseif f.ma then
      removed, added = cmsgpack.unpack(f.r), cmsgpack.unpack(f.a)
      nr, na = #removed, #added
    end
    local total = own + nr + na
    local from = (id == cursorId) and (skip + 1) or 0
    local to = math.min(total, from + limit - count)
    -- Member values of events [from, to): removed ones are indexes own .. own+nr-1, added ones follow.
    local function slice(list, part, offset, n)
      local a, b = math.max(from - offset, 0), math.min(to - offset, n) - 1
      if b < a then return {} end
      if list then return { unpack(list, a + 1, b + 1) } end
      return redis.call('LRANGE', evList(seq, part), a, b)
    end
    local rid, json = f.id or '', nil
    if to > from then rid, json = loggedResource(f, seq) end
    out[#out + 1] = { id, f.k, rid, json or '', json and 1 or 0, f.ty, f.ch, f.ma or '', f.mr or '', total, from,
      slice(removed, 'r', own, nr), slice(added, 'a', own + nr, na) }
    count = count + math.max(to - from, 0)
    -- Each entry copies its resource's JSON: the page ends after the entry that passes the budget. An entry
    -- whose member events an earlier part of the page began is not counted again.
    if from == 0 then bytes = bytes + #(json or '') end
    if to < total or count >= limit or bytes > budget then return { 'ok', out } end
  end
end
return { 'ok', out }
`;

/**
 * `now`: the ms of ARGV[n] when given (a store given a clock: tests), else Redis's clock, which every app
 * instance shares.
 */
const nowFromArg = (n: number) => `
local now = tonumber(ARGV[${n}])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end`;

/**
 * Announces a connection's new events (KEYS: events:active; ARGV: connection id, ms or '' for Redis's clock),
 * stamped by Redis's clock, which every instance shares: stamped by each writer's own, a writer whose clock
 * ran behind the consumers' by more than their slack went unseen until the next rescan (audit 26).
 */
export const ANNOUNCE_CONNECTION = `${nowFromArg(2)}
redis.call('ZADD', KEYS[1], now, ARGV[1])
return 1
`;

/**
 * The connections announced at or after a time (KEYS: events:active; ARGV: since ms, ms or '' for Redis's
 * clock): {now, flat list of connection id and ms}.
 */
export const ANNOUNCED_SINCE = `${nowFromArg(2)}
return { string.format('%d', now), redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], '+inf', 'WITHSCORES') }
`;

/** Consumer-group state under the connection's tag: `ev:cursors` group -> cursor, `ev:leases` group -> `<owner> <until ms>`. */
const LEASE_PRELUDE = `
local base = KEYS[1]
local CURSORS, LEASES = base .. 'ev:cursors', base .. 'ev:leases'
local group, owner = ARGV[1], ARGV[2]
-- Leases are timed by Redis's clock, shared by every instance (an instance whose clock ran 31 s ahead took a
-- lease another was renewing); a store given its own clock (tests) sends it instead.${nowFromArg(3)}
local function holder()
  local lease = redis.call('HGET', LEASES, group)
  if not lease then return nil, 0 end
  local who, untilMs = string.match(lease, '^(%S+) (%d+)$')
  return who, tonumber(untilMs)
end
`;

/**
 * Takes or renews a lease (ARGV: group, owner, now ms or '' for Redis's clock, ttl ms). Reply: {} when another owner's lease runs
 * or the connection is gone, else {connection record, cursor or '', 1 if a cursor was committed else 0}.
 */
export const CLAIM_EVENT_LEASE = `${LEASE_PRELUDE}
local conn = redis.call('GET', base .. 'conn')
if not conn then return {} end
local who, untilMs = holder()
if who and who ~= owner and untilMs > now then return {} end
redis.call('HSET', LEASES, group, owner .. ' ' .. string.format('%d', now + tonumber(ARGV[4])))
local cursor = redis.call('HGET', CURSORS, group)
return { conn, cursor or '', cursor and 1 or 0 }
`;

/** Renews the lease of owner and commits a cursor (ARGV: group, owner, now, ttl, '1' + cursor or '0'). Reply 1, or 0 when the lease is not owner's. */
export const COMMIT_EVENT_CURSOR = `${LEASE_PRELUDE}
if redis.call('EXISTS', base .. 'conn') == 0 or holder() ~= owner then return 0 end
redis.call('HSET', LEASES, group, owner .. ' ' .. string.format('%d', now + tonumber(ARGV[4])))
if ARGV[5] == '1' then redis.call('HSET', CURSORS, group, ARGV[6]) end
return 1
`;

/** Gives up owner's lease (ARGV: group, owner, now). */
export const RELEASE_EVENT_LEASE = `${LEASE_PRELUDE}
if holder() == owner then redis.call('HDEL', LEASES, group) end
return 1
`;
