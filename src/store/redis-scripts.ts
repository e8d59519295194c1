/**
 * Lua sources of the Redis store. Resource scripts take one key, KEYS[1] = `<prefix>{c:<connectionId>}:`,
 * and derive every other key from it, so that (a) all keys share the connection's hash tag, hence one
 * Cluster slot, and (b) a client-side ioredis `keyPrefix`, applied to KEYS[1], reaches every derived key.
 *
 * Key suffixes under the tag (see redis.ts for the full layout): `conn`, `dying`, `seq`, `attrs`, `member`,
 * `g:dn`, `g:m:<groupId>`, `<k>:order`, `<k>:r`, `<k>:i:<attribute>`, with `<k>` = `u` (users) or `g` (groups),
 * and the user tombstones `u:gone:<attribute>`.
 *
 * Inside a connection a resource is addressed by its `seq` (creation counter, decimal): `<k>:order` maps
 * id -> seq (ZSCORE) and ranks by creation; `<k>:r` and the indexes hold seqs instead of ids. A 3-7 digit
 * seq instead of a 36-character id in five places is what keeps a user within the memory target.
 *
 * Rules kept by every script: resource JSON is an opaque string, only ever cut out with string.sub (never
 * cjson: it would mangle `[]` and large numbers); replies contain no nil (a nil truncates a Lua array
 * reply), only strings, integers and nested arrays; seqs and group ids are separated by single spaces (the
 * stores reject ids containing whitespace).
 */

/** Helpers shared by every resource script. */
const PRELUDE = `
local base = KEYS[1]
local MEMBER = base .. 'member'
local DN = base .. 'g:dn'
local function order(k) return base .. k .. ':order' end
local function rhash(k) return base .. k .. ':r' end
local function mkey(gid) return base .. 'g:m:' .. gid end
local function ikey(k, attr) return base .. k .. ':i:' .. attr end
local function gonekey(attr) return base .. 'u:gone:' .. attr end
local function fmt(n) return string.format('%d', tonumber(n)) end

-- The seq of resource id, as the decimal string used for hash fields, or nil.
local function seqOf(k, id)
  local score = redis.call('ZSCORE', order(k), id)
  if score then return fmt(score) end
  return nil
end

-- A resource is the value '<version>:<len(id)>:<len(x)>:<id><x><json>' of field seq in <k>:r;
-- x = its own index entries (cmsgpack of attr, value pairs; byte-exact, unlike a JSON round trip).
local function parseRes(s)
  local v, il, xl, p = string.match(s, '^(%d+):(%d+):(%d+):()')
  il, xl = tonumber(il), tonumber(xl)
  return { v = tonumber(v), id = string.sub(s, p, p + il - 1), x = string.sub(s, p + il, p + il + xl - 1),
    json = string.sub(s, p + il + xl) }
end
local function packRes(v, id, x, json) return fmt(v) .. ':' .. #id .. ':' .. #x .. ':' .. id .. x .. json end

local function addTo(h, field, item)
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
  local old = cmsgpack.unpack(packed)
  for i = 1, #old, 2 do removeFrom(ikey(k, old[i]), old[i + 1], seq) end
end
`;

/** Write helpers. ARGV: kind, id, json, expectedVersion, displayName, n, n×(attr, value, '1'|'0'), m, m×(value, meta). */
const WRITE_PRELUDE = `${PRELUDE}
local function parseWrite()
  local w = { k = ARGV[1], id = ARGV[2], json = ARGV[3], expected = tonumber(ARGV[4]), dn = ARGV[5],
    idx = {}, members = {} }
  local p = 7
  for i = 1, tonumber(ARGV[6]) do
    w.idx[i] = { ARGV[p], ARGV[p + 1], ARGV[p + 2] }
    p = p + 3
  end
  for i = 1, tonumber(ARGV[p]) do
    w.members[i] = { ARGV[p + 1], ARGV[p + 2] }
    p = p + 2
  end
  return w
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
    flat[#flat + 1] = e[1]
    flat[#flat + 1] = e[2]
  end
  return cmsgpack.pack(flat)
end

-- Adds the entries for seq and returns them packed for storing with the resource.
local function addIndexes(w, seq)
  for _, e in ipairs(w.idx) do
    addTo(ikey(w.k, e[1]), e[2], seq)
    redis.call('SADD', base .. 'attrs', w.k .. ':i:' .. e[1])
  end
  return packIndexes(w)
end

-- Rewrites the member hash of group w.id and keeps the reverse index (member -> group ids) in step.
local function writeMembers(w, replacing)
  local mk = mkey(w.id)
  if replacing then
    local keep = {}
    for _, m in ipairs(w.members) do keep[m[1]] = true end
    for _, v in ipairs(redis.call('HKEYS', mk)) do
      if not keep[v] then removeFrom(MEMBER, v, w.id) end
    end
    redis.call('DEL', mk)
  end
  for _, m in ipairs(w.members) do
    redis.call('HSET', mk, m[1], m[2])
    addTo(MEMBER, m[1], w.id)
  end
end
`;

/** Creates a resource: connection must exist, id and unique index values must be free. Reply {status, detail}. */
export const CREATE_RESOURCE = `${WRITE_PRELUDE}
local w = parseWrite()
if redis.call('EXISTS', base .. 'conn') == 0 then return { 'not_found' } end
if seqOf(w.k, w.id) then return { 'uniqueness', 'id' } end
local taken = conflict(w, nil)
if taken then return { 'uniqueness', taken } end
local seq = fmt(redis.call('INCR', base .. 'seq'))
local packed = addIndexes(w, seq)
redis.call('ZADD', order(w.k), seq, w.id)
redis.call('HSET', rhash(w.k), seq, packRes(1, w.id, packed, w.json))
if w.k == 'g' then
  redis.call('HSET', DN, w.id, w.dn)
  writeMembers(w, false)
end
return { 'ok', 1 }
`;

/** Replaces a resource if its version equals ARGV[4]; swaps its index entries and members. Reply {status, detail}. */
export const REPLACE_RESOURCE = `${WRITE_PRELUDE}
local w = parseWrite()
if redis.call('EXISTS', base .. 'conn') == 0 then return { 'not_found' } end
local seq = seqOf(w.k, w.id)
if not seq then return { 'not_found' } end
local cur = parseRes(redis.call('HGET', rhash(w.k), seq))
if cur.v ~= w.expected then return { 'version_mismatch', cur.v } end
-- Most updates (active, names, titles) leave every index entry as it was: then the indexes are not touched.
local packed = packIndexes(w)
if packed ~= cur.x then
  local taken = conflict(w, seq)
  if taken then return { 'uniqueness', taken } end
  removeIndexes(w.k, seq, cur.x)
  addIndexes(w, seq)
end
redis.call('HSET', rhash(w.k), seq, packRes(cur.v + 1, w.id, packed, w.json))
if w.k == 'g' then
  redis.call('HSET', DN, w.id, w.dn)
  writeMembers(w, true)
end
return { 'ok', cur.v + 1 }
`;

/**
 * Deletes a resource (ARGV: kind, id, now in epoch ms) with its index entries; removes it from every group
 * listing it (bumping those groups' versions) and, for a group, drops its members' reverse entries. A user
 * leaves a tombstone per index entry: field value = deletion time in `u:gone:<attribute>` (read by
 * FIND_USERS_FOR_LOGIN; the hash is listed in `attrs` so that SWEEP_CONNECTION removes it). Reply 1 or 0.
 */
export const DELETE_RESOURCE = `${PRELUDE}
local k, id = ARGV[1], ARGV[2]
local seq = seqOf(k, id)
if not seq then return 0 end
local packed = parseRes(redis.call('HGET', rhash(k), seq)).x
if k == 'u' then
  local old = cmsgpack.unpack(packed)
  for i = 1, #old, 2 do
    redis.call('HSET', gonekey(old[i]), old[i + 1], ARGV[3])
    redis.call('SADD', base .. 'attrs', 'u:gone:' .. old[i])
  end
end
removeIndexes(k, seq, packed)
redis.call('ZREM', order(k), id)
redis.call('HDEL', rhash(k), seq)
local parents = redis.call('HGET', MEMBER, id)
if parents then
  for gid in string.gmatch(parents, '%S+') do
    redis.call('HDEL', mkey(gid), id)
    -- A group listing itself is already gone here, so seqOf skips it.
    local gseq = seqOf('g', gid)
    if gseq then
      local g = parseRes(redis.call('HGET', rhash('g'), gseq))
      redis.call('HSET', rhash('g'), gseq, packRes(g.v + 1, g.id, g.x, g.json))
    end
  end
  redis.call('HDEL', MEMBER, id)
end
if k == 'g' then
  redis.call('HDEL', DN, id)
  local mk = mkey(id)
  for _, v in ipairs(redis.call('HKEYS', mk)) do removeFrom(MEMBER, v, id) end
  redis.call('DEL', mk)
end
return 1
`;

/**
 * Read helper: one resource as {id, json, version, aux} where aux is, for a user, flat (groupId, displayName)
 * pairs in group creation order, and for a group, flat (memberValue, meta) pairs (meta holds the position).
 */
const READ_PRELUDE = `${PRELUDE}
-- What is read beside a resource: a user's groups (id, displayName, in group creation order), or a group's
-- member hash. Most users are in no group: one HGET answers that.
-- parents may be passed when already read (a page reads them with one HMGET).
local function auxOf(k, id, parents)
  if k ~= 'u' then return redis.call('HGETALL', mkey(id)) end
  if parents == nil then parents = redis.call('HGET', MEMBER, id) end
  if not parents then return {} end
  local groups, aux = {}, {}
  for gid in string.gmatch(parents, '%S+') do
    local gseq = redis.call('ZSCORE', order('g'), gid)
    if gseq then groups[#groups + 1] = { tonumber(gseq), gid } end
  end
  table.sort(groups, function(a, b) return a[1] < b[1] end)
  for _, g in ipairs(groups) do
    aux[#aux + 1] = g[2]
    aux[#aux + 1] = redis.call('HGET', DN, g[2]) or ''
  end
  return aux
end

local function load(k, seq)
  local s = redis.call('HGET', rhash(k), seq)
  if not s then return nil end
  local r = parseRes(s)
  return { r.id, r.json, r.v, auxOf(k, r.id) }
end

-- The loaded resources that index value (attr, value) of kind k points at, in creation order.
local function findAll(k, attr, value)
  local seqs = {}
  for s in string.gmatch(redis.call('HGET', ikey(k, attr), value) or '', '%S+') do seqs[#seqs + 1] = s end
  table.sort(seqs, function(a, b) return tonumber(a) < tonumber(b) end)
  local out = {}
  for _, s in ipairs(seqs) do
    local r = load(k, s)
    if r then out[#out + 1] = r end
  end
  return out
end
`;

/** Reads one resource (ARGV: kind, id). Reply: the loaded resource, or an empty array. */
export const GET_RESOURCE = `${READ_PRELUDE}
local seq = seqOf(ARGV[1], ARGV[2])
return seq and load(ARGV[1], seq) or {}
`;

/** Reads the resources an index value points at (ARGV: kind, attribute, value), in creation order. */
export const FIND_BY_INDEX = `${READ_PRELUDE}
return findAll(ARGV[1], ARGV[2], ARGV[3])
`;

/**
 * The login guard's whole lookup (ARGV: attribute, value): the users that index value points at, in
 * creation order, and 1 if a deleted user left a tombstone for it (else 0). Reply {users, 0|1}.
 */
export const FIND_USERS_FOR_LOGIN = `${READ_PRELUDE}
return { findAll('u', ARGV[1], ARGV[2]), redis.call('HEXISTS', gonekey(ARGV[1]), ARGV[2]) }
`;

/** For each (attribute, value) pair in ARGV: 1 if a deleted user held it (a user tombstone), else 0. */
export const FIND_DELETED_USERS = `${PRELUDE}
local out = {}
for i = 1, #ARGV, 2 do out[#out + 1] = redis.call('HEXISTS', gonekey(ARGV[i]), ARGV[i + 1]) end
return out
`;

/**
 * Reads one page in creation order (ARGV: kind, offset, count). Reply {total, rows, aux}: the page's stored
 * rows as they are (one HMGET; the caller splits `<v>:<len id>:<len x>:<id><x><json>` byte-exactly, which
 * is cheaper than cutting 100 JSON strings in Lua), and each row's groups or members.
 */
export const LIST_PAGE = `${READ_PRELUDE}
local k, offset, count = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local total = redis.call('ZCARD', order(k))
local rows, aux = {}, {}
if count > 0 and offset < total then
  -- Clamped to the total so that a huge count never reaches ZRANGE as a float-formatted number.
  local ranked = redis.call('ZRANGE', order(k), offset, math.min(offset + count, total) - 1, 'WITHSCORES')
  local seqs = {}
  for i = 2, #ranked, 2 do seqs[#seqs + 1] = fmt(ranked[i]) end
  if #seqs > 0 then
    rows = redis.call('HMGET', rhash(k), unpack(seqs))
    local parents = {}
    if k == 'u' then
      local ids = {}
      for i = 1, #ranked, 2 do ids[#ids + 1] = ranked[i] end
      parents = redis.call('HMGET', MEMBER, unpack(ids))
    end
    for i = 1, #seqs do aux[i] = auxOf(k, ranked[2 * i - 1], parents[i]) end
  end
end
return { total, rows, aux }
`;

/**
 * Deletes up to ARGV[1] users, then groups, of a connection being deleted; once none are left, deletes the
 * indexes and bookkeeping keys. Reply: how many resources it deleted (0 = finished).
 */
export const SWEEP_CONNECTION = `${PRELUDE}
for _, k in ipairs({ 'u', 'g' }) do
  local ranked = redis.call('ZRANGE', order(k), 0, tonumber(ARGV[1]) - 1, 'WITHSCORES')
  if #ranked > 0 then
    for i = 1, #ranked, 2 do
      redis.call('HDEL', rhash(k), fmt(ranked[i + 1]))
      if k == 'g' then redis.call('UNLINK', mkey(ranked[i])) end
      redis.call('ZREM', order(k), ranked[i])
    end
    return #ranked / 2
  end
end
for _, suffix in ipairs(redis.call('SMEMBERS', base .. 'attrs')) do redis.call('UNLINK', base .. suffix) end
redis.call('UNLINK', base .. 'attrs', MEMBER, DN, base .. 'seq', order('u'), order('g'), rhash('u'), rhash('g'),
  base .. 'dying')
return 0
`;
