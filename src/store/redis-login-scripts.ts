/**
 * The Redis store's login lookups: the holders of the value a login looks up, which of them is active, the
 * tombstone of a deleted holder, and the login's record, in one script (FIND_USERS_FOR_LOGIN,
 * LOGIN_AND_RECORD), and the matching report's batched lookups (FIND_USERS_FOR_LOGIN_BATCH).
 */
import { linkLua } from './lua-link.js';
import { READ_PRELUDE, SMALL_ROW_BYTES } from './redis-lua-prelude.js';
import { RECORD_SSO_FUNCTION } from './redis-sso.js';
import { MEMBER_CHUNK } from './redis-write-scripts.js';
import { PAGE_READ_BYTES } from './read-budgets.js';

/**
 * The most bytes of user JSON one login script decodes to learn who is active (activeHolder); past them the
 * app decides, one user a turn (src/store/redis-logins.ts). A login of ordinary holders decodes a few KB.
 */
export const LOGIN_DECODE_BYTES = 256 * 1024;

/** The fifth item of a user a login script gives as its login projection instead of its row (loginFound). */
export const PROJECTED_HOLDER = 'p';

/** The read helpers and what a login adds: which of a value's holders are active (activeHolder, loginHolders). */
const LOGIN_PRELUDE = `${READ_PRELUDE}
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

-- The users a login's index value points at, in creation order, as findAll reads them (groups unread), but
-- for those with a login projection (LP: large users), which stand in for their rows: {id, projection JSON,
-- version, {'-'}, PROJECTED_HOLDER}, their seq in seqOfProjected. So a login over 100 holders of 0.8 MB
-- copies a few hundred bytes of each, not 80 MB (a projected user is read whole only if it is admitted).
-- A crowded value (src/store/crowded-values.ts): nobody, and true.
local function loginFound(attr, value, seqOfProjected)
  local seqs, crowded = seqsAt('u', attr, value)
  if crowded then return {}, true end
  local projections = {}
  -- In HMGETs of at most ${MEMBER_CHUNK}: a store without quotas may let thousands of users share a value.
  for from = 1, #seqs, ${MEMBER_CHUNK} do
    local part = redis.call('HMGET', LP, unpack(seqs, from, math.min(from + ${MEMBER_CHUNK} - 1, #seqs)))
    for j = 1, #part do projections[from + j - 1] = part[j] end
  end
  -- Projections are read within ${PAGE_READ_BYTES} bytes (PAGE_READ_BYTES), as rows are: past them, a holder is
  -- read as its row (loadAll, which defers what its own budget leaves to further scripts).
  local rows, spent = {}, 0
  for i, s in ipairs(seqs) do
    if projections[i] and spent + #projections[i] <= ${PAGE_READ_BYTES} then
      spent = spent + #projections[i]
    else
      projections[i] = false
      rows[#rows + 1] = s
    end
  end
  if #rows == #seqs then return loadAll('u', seqs, nil, true) end
  -- Index and rows are written together, so every seq without a projection has its row, in this order.
  local loaded, nextRow, users = loadAll('u', rows, nil, true), 1, {}
  for i, s in ipairs(seqs) do
    if projections[i] then
      local p = parseProjection(projections[i])
      users[#users + 1] = { p[1], p[2], p[3], { '-' }, '${PROJECTED_HOLDER}' }
      seqOfProjected[users[#users]] = s
    elseif loaded[nextRow] then
      users[#users + 1] = loaded[nextRow]
      nextRow = nextRow + 1
    end
  end
  return users
end

-- The users a login's index value points at (loginFound), with the groups of the only one a login can
-- admit: the one active holder, whole; none when two or more are active (ambiguous) or none is. The others'
-- aux is {'-'}: groups not read. Reading every holder's groups made one login of a value held by 100 users
-- in 1,000 groups each derive 100,000 memberships (an audit, 2026-12-07); a session needs the admitted
-- user's only. Returns the users, how many are active (nil when one was deferred or does not decode: the
-- caller decides then), the active one when it is alone, and whether the value is crowded (then nobody is
-- read); each holder's JSON is decoded once.
local function loginHolders(attr, value, activity)
  local seqOfProjected = {}
  local users, crowded = loginFound(attr, value, seqOfProjected)
  if crowded then return {}, 0, nil, true end
  local active, admissible, unsure = 0, nil, false
  local budget = { left = ${LOGIN_DECODE_BYTES} }
  for i, u in ipairs(users) do
    local isActive = activeHolder(u, activity, budget)
    if isActive == nil then
      unsure = true
    elseif isActive then
      active = active + 1
      admissible = i
    end
  end
  if active ~= 1 then return users, (not unsure) and active or nil, nil, false end
  local seq = seqOfProjected[users[admissible]]
  if seq then users[admissible] = load('u', seq, true) or users[admissible] end
  users[admissible][4] = groupsWithin({ users[admissible][1] }, 1)[1]
  return users, (not unsure) and active or nil, users[admissible], false
end
`;

/**
 * The login guard's whole lookup (ARGV: attribute, value, now ms, retention ms, the activity attribute): the
 * users that index value points at, in creation order (loginHolders: the groups of the one a login can admit
 * only), 1 if a deleted user left a tombstone for it within the retention (else 0), and 1 if the value is
 * crowded (then no users, no tombstone). Reply {users, 0|1, 0|1}.
 */
export const FIND_USERS_FOR_LOGIN = linkLua(
  LOGIN_PRELUDE,
  `
-- A connection being deleted (its record renamed away) holds nobody, whatever its sweep has not reached.
if redis.call('EXISTS', base .. 'conn') == 0 then return { {}, 0, 0 } end
local users, _, _, crowded = loginHolders(ARGV[1], ARGV[2], ARGV[5])
if crowded then return { {}, 0, 1 } end
return { users, buried(ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])), 0 }
`,
);

/**
 * The login guard's decision step (KEYS[1] = the connection's tag, KEYS[2] = the customer's SSO user hash,
 * KEYS[3] = its seen set, KEYS[4] = its bytes count; ARGV: '1' to look up or '0', attribute, value, now ms, retention ms, the activity
 * attribute, subject, firstSeenAt, the attempt's JSON without its outcome fields, its seen score, the most SSO
 * users the customer keeps):
 * FIND_USERS_FOR_LOGIN's lookup (loginHolders), then the outcome of loginOutcome (src/store/login-outcome.ts) from it, recorded as
 * RECORD_SSO_USER records. Reading a user's activity is the one place a script decodes resource JSON
 * (cjson, read only, never re-encoded); a user it cannot decode leaves the attempt unrecorded (reply flag
 * 0) for the caller to record. The connection's key and the SSO keys are in different Cluster slots: the
 * Redis store runs this on standalone Redis only. Reply {users,
 * 0|1 tombstone, 1|0 recorded, outcome, reason or '', scim user id or '', 1|0 crowded}.
 */
export const LOGIN_AND_RECORD = linkLua(
  LOGIN_PRELUDE,
  `
${RECORD_SSO_FUNCTION}
local users, n, admissible, gone, crowded = {}, 0, nil, 0, false
-- A connection being deleted (its record renamed away) admits nobody, whatever its sweep has not reached.
if ARGV[1] == '1' and redis.call('EXISTS', base .. 'conn') == 1 then
  users, n, admissible, crowded = loginHolders(ARGV[2], ARGV[3], ARGV[6])
  if not crowded then gone = buried(ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])) end
end
local crowdedFlag = crowded and 1 or 0
-- A deferred user (findAll's budget) or one that does not decode: the caller decides and records.
if n == nil then return { users, gone, 0, '', '', '', crowdedFlag } end
local outcome, reason, id = 'refused', nil, nil
-- A crowded value names nobody; the local part of a userName matches different people: any two are
-- ambiguous (matchesDistinctPeople).
if crowded or n > 1 or (ARGV[2] == 'userNameLocal' and #users > 1) then reason = 'ambiguous'
elseif n == 1 then outcome, id = 'admitted', admissible[1]
elseif #users > 0 then reason, id = 'deactivated', users[#users][1]
elseif gone == 1 then reason = 'deleted'
else reason = 'not_provisioned' end
local json = string.sub(ARGV[9], 1, -2) .. ',"lastOutcome":"' .. outcome .. '","lastReason":' ..
  (reason and ('"' .. reason .. '"') or 'null') .. ',"lastScimUserId":' .. (id and cjson.encode(id) or 'null') .. '}'
recordSso(KEYS[2], KEYS[3], KEYS[4], ARGV[7], ARGV[8], json, ARGV[10], ARGV[11], ARGV[12])
return { users, gone, 1, outcome, reason or '', id or '', crowdedFlag }
`,
);

/**
 * FIND_USERS_FOR_LOGIN for many lookups, read in bulk (ARGV: now ms, retention ms, '1' to read the users' groups
 * or '0' (an empty groups item then, nothing deferred), '1' to read users that have a login projection as it
 * (LoginBatchOptions.projections: each such row is then the projection packed as a row, packRes with no
 * index or sort entries) or '0', then per index attribute:
 * the attribute, how many values, the values; at most MEMBER_CHUNK values in all): one HMGET per attribute,
 * one for the rows of every user found (each once), and their groups as groupsWithin reads them. The reply is nine
 * items, whatever the number of lookups (a reply of many small items costs the client more than the data):
 * {seqs, rows, groups, refs, tombstones, deferred, answered, oversized}. rows are the stored rows of the users found (as LIST_PAGE returns
 * them) and seqs their seqs, space-separated; groups is flat: for each row in some group, its position,
 * how many groups, then (group id, displayName) pairs; refs lists per lookup, comma-separated and in ARGV
 * order, the 1-based row positions of what it found, space-separated and in creation order; tombstones has
 * one character per lookup, 1 if a deleted user held its value, looked up only when it found no user (a
 * digest costs more than the rest of a lookup, and it is consulted only then) and the connection has
 * tombstones at all, c if the value is crowded (nobody read: src/store/crowded-values.ts), else 0. deferred lists the rows whose groups this script left out (past
 * GROUP_IDS_PER_SCRIPT), space-separated: the caller reads them with USER_GROUPS, so no script holds Redis
 * for long however many groups the users found are in. The seventh item is how many lookups, in ARGV order,
 * this script answered: it stops before the lookup whose users' rows would pass PAGE_READ_BYTES (at least
 * one), and the caller sends the rest again. The eighth is '' unless the first lookup alone passes
 * PAGE_READ_BYTES: then the creation numbers of its users, space-separated (every other item empty, the
 * seventh 0), for the caller to read one row per script. The ninth lists the rows that are projections,
 * space-separated (1-based).
 */
export const FIND_USERS_FOR_LOGIN_BATCH = linkLua(
  LOGIN_PRELUDE,
  `
local now, retention, withGroups = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3] == '1'
-- Projections asked for and some user has one (most connections have no user that large: no HMGET then).
local projecting = ARGV[4] == '1' and redis.call('EXISTS', LP) == 1
local attrs, values, held = {}, {}, {}
local a = 5
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
local seqs, position, found, projection = {}, {}, {}, {}
-- While the users' rows key says 'small' (SMALL_ROW_BYTES), bytes is an upper bound (that size a row) and
-- no row is sized: one HSTRLEN a user was a tenth of this script's Redis time in the matching report. Once
-- the bound passes the budget, the rows read so far are sized (exactRowBytes) and every later one is.
local exact = redis.call('GET', rowsKey('u')) ~= 'small'
local function rowBytes(seq)
  return exact and redis.call('HSTRLEN', rhash('u'), seq) or ${SMALL_ROW_BYTES + 64}
end
-- The login projections of seqs[from..to] (when asked for), in projection: their bytes, or the rows' sizes.
local function sizeOf(from, to)
  local total = 0
  for c = from, to, ${MEMBER_CHUNK} do
    local last = math.min(c + ${MEMBER_CHUNK} - 1, to)
    local part = projecting and redis.call('HMGET', LP, unpack(seqs, c, last)) or {}
    for j = c, last do
      local p = part[j - c + 1]
      if p then
        projection[seqs[j]] = p
        total = total + #p
      else
        total = total + rowBytes(seqs[j])
      end
    end
  end
  return total
end
-- The exact bytes of seqs[1..to]: their projections (sizeOf found them) or their rows' sizes.
local function exactRowBytes(to)
  exact = true
  local total = 0
  for j = 1, to do total = total + (projection[seqs[j]] and #projection[seqs[j]] or rowBytes(seqs[j])) end
  return total
end
local crowded = {}
for i = 1, n do
  local list, before = {}, #seqs
  -- A crowded value (src/store/crowded-values.ts) reads nobody.
  local unlisted, listed = splitHolders(held[i])
  crowded[i] = unlisted > 0
  for s in string.gmatch(crowded[i] and '' or listed, '%S+') do
    if not position[s] then
      seqs[#seqs + 1] = s
      position[s] = #seqs
    end
    list[#list + 1] = s
  end
  -- The new rows are counted before they are read (by their upper bound while the rows are small, else
  -- sized): past ${PAGE_READ_BYTES} bytes (PAGE_READ_BYTES), this lookup
  -- and the rest are left to the caller's next script; a first lookup that passes it alone (up to 100 heavy
  -- holders) is answered with its holders' creation numbers only, for the caller to read one row per script.
  bytes = bytes + sizeOf(before + 1, #seqs)
  if bytes > ${PAGE_READ_BYTES} and not exact then bytes = exactRowBytes(#seqs) end
  if #list > 1 then table.sort(list, function(x, y) return tonumber(x) < tonumber(y) end) end
  if bytes > ${PAGE_READ_BYTES} then
    if i == 1 then return { '', {}, {}, '', '', '', 0, table.concat(list, ' '), '' } end
    for j = #seqs, before + 1, -1 do
      position[seqs[j]] = nil
      seqs[j] = nil
    end
    n = i - 1
    break
  end
  found[i] = list
end
local rows, live, ids, kept, projected = {}, {}, {}, {}, {}
for from = 1, #seqs, ${MEMBER_CHUNK} do
  local last = math.min(from + ${MEMBER_CHUNK} - 1, #seqs)
  local wanted = {}
  for j = from, last do
    if not projection[seqs[j]] then wanted[#wanted + 1] = seqs[j] end
  end
  local part = #wanted > 0 and redis.call('HMGET', rhash('u'), unpack(wanted)) or {}
  local nextRow = 1
  for j = from, last do
    local row, p = nil, projection[seqs[j]]
    if p then
      local u = parseProjection(p)
      row = packRes(u[3], u[1], '', '', u[2])
      projected[#projected + 1] = #rows + 1
    else
      row = part[nextRow]
      nextRow = nextRow + 1
    end
    if row then
      rows[#rows + 1] = row
      live[j] = #rows
      kept[#rows] = seqs[j]
    end
  end
end
local groups, deferred = {}, {}
local aux = {}
if withGroups and redis.call('EXISTS', MEMBER) == 1 then
  -- The users' ids, from their rows' headers (only here: the report asks without groups).
  for i, row in ipairs(rows) do
    local idLength, at = string.match(row, '^%d+:(%d+):[%d/]+:()')
    ids[i] = string.sub(row, at, at + tonumber(idLength) - 1)
  end
  aux = groupsWithin(ids, #ids)
end
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
  if crowded[i] then gone[i] = 'c'
  else gone[i] = ((anyGone and #at == 0) and buried(attrs[i], values[i], now, retention) or 0) == 1 and '1' or '0' end
end
return { table.concat(kept, ' '), rows, groups, table.concat(refs, ','), table.concat(gone), table.concat(deferred, ' '), n, '', table.concat(projected, ' ') }
`,
);
