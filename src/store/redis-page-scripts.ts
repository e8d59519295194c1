/**
 * The Redis store's pages of resources: by creation order (LIST_PAGE, LIST_AFTER), by a sort index
 * (LIST_SORTED), the sort indexes' background build (SORT_BACKLOG, FILL_SORT_INDEX), and users by position
 * (USER_POSITIONS_AFTER, USER_NAMES_AT, USERS_AT). Each page is bounded in rows, bytes and reverse-index entries.
 */
import { linkLua } from './lua-link.js';
import { PRELUDE, READ_PRELUDE } from './redis-lua-prelude.js';
import { GROUP_IDS_PER_PAGE, PAGE_READ_BYTES } from './read-budgets.js';

/** Users whose reverse-index entries a page reads per HMGET, checking its budget between two. */
const PAGE_ENTRIES_CHUNK = 20;

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
  -- Read within the budget whatever the rows hold (readRows; PAGE_READ_BYTES in src/store/read-budgets.ts).
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
 * '0', offset, count, '0' to leave users' groups out, the most bytes of rows or '' for no limit): the ranks of sortedRun in src/store/sort-runs.ts, read with ZRANGE by rank (O(log n +
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
 * O(log n + count): no row is read.
 */
export const USER_POSITIONS_AFTER = linkLua(
  PRELUDE,
  `
return redis.call('ZRANGE', order('u'), '(' .. ARGV[1], '+inf', 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[2]) + 1, 'WITHSCORES')
`,
);

/**
 * The folded userNames of the users at creation numbers ARGV[2..], from their rows' index entries (never
 * their JSON), for pickUsersAfter's `userNames`: {the bytes of rows read, names}, a name for each row read,
 * '' for a user without one, false for a user deleted since its position was read. The rows are read within
 * ARGV[1] bytes (what is left of the page's PAGE_READ_BYTES; readRows, at least one): fewer names than asked
 * means that budget ended them. Reading the rows is most of the cost (a few µs a row), which is why only the
 * positions a caller names are read.
 */
export const USER_NAMES_AT = linkLua(
  PRELUDE,
  `
local seqs = {}
for i = 2, #ARGV do seqs[#seqs + 1] = ARGV[i] end
local rows, named, bytes = readRows('u', seqs, tonumber(ARGV[1])), {}, 0
for i = 1, #rows do
  local row, name = rows[i], false
  if row then
    bytes = bytes + #row
    name = ''
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
  named[i] = name
end
return { bytes, named }
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
