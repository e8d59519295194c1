/**
 * Lua sources of the Redis store. Resource scripts take one key, KEYS[1] = `<prefix>{c:<connectionId>}:`,
 * and derive every other key from it, so that (a) all keys share the connection's hash tag, hence one
 * Cluster slot, and (b) a client-side ioredis `keyPrefix`, applied to KEYS[1], reaches every derived key.
 *
 * Key suffixes under the tag (see redis.ts for the full layout): `conn`, `dying`, `seq`, `attrs`, `member`,
 * `g:dn`, `<k>:order`, `<k>:r:<id>`, `<k>:i:<attribute>`, `g:m:<groupId>`, with `<k>` = `u` (users) or `g` (groups).
 *
 * Rules kept by every script: resource JSON is an opaque string (never cjson: it would mangle `[]` and
 * large numbers); replies contain no nil (a nil truncates a Lua array reply), only strings, integers and
 * nested arrays; ids are separated by single spaces (the stores reject ids containing whitespace).
 */

/** Helpers shared by every resource script. */
const PRELUDE = `
local base = KEYS[1]
local MEMBER = base .. 'member'
local function rkey(k, id) return base .. k .. ':r:' .. id end
local function mkey(gid) return base .. 'g:m:' .. gid end
local function ikey(k, attr) return base .. k .. ':i:' .. attr end
local DN = base .. 'g:dn'

-- A resource is one STRING '<version>:<length of x>:<x><json>' (x = its own index entries, msgpack).
-- A string costs far less memory than a hash whose JSON field exceeds hash-max-listpack-value, and the
-- JSON stays an opaque byte string: it is only ever cut out with string.sub.
local function parseRes(s)
  local v, xl, p = string.match(s, '^(%d+):(%d+):()')
  xl = tonumber(xl)
  return tonumber(v), string.sub(s, p, p + xl - 1), string.sub(s, p + xl)
end
local function packRes(v, x, json) return string.format('%d', v) .. ':' .. #x .. ':' .. x .. json end

local function addId(h, field, id)
  local cur = redis.call('HGET', h, field)
  if not cur or cur == '' then
    redis.call('HSET', h, field, id)
  elseif not string.find(' ' .. cur .. ' ', ' ' .. id .. ' ', 1, true) then
    redis.call('HSET', h, field, cur .. ' ' .. id)
  end
end

local function removeId(h, field, id)
  local cur = redis.call('HGET', h, field)
  if not cur then return end
  local rest = {}
  for x in string.gmatch(cur, '%S+') do
    if x ~= id then rest[#rest + 1] = x end
  end
  if #rest == 0 then redis.call('HDEL', h, field) else redis.call('HSET', h, field, table.concat(rest, ' ')) end
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

-- The attribute of the first unique entry that another resource already holds, or nil.
local function conflict(w)
  for _, e in ipairs(w.idx) do
    if e[3] == '1' then
      local cur = redis.call('HGET', ikey(w.k, e[1]), e[2])
      if cur then
        for x in string.gmatch(cur, '%S+') do
          if x ~= w.id then return e[1] end
        end
      end
    end
  end
  return nil
end

-- Adds the entries and returns them packed (attr, value pairs) for storing with the resource.
-- cmsgpack is byte-exact for strings, unlike a JSON round trip.
local function addIndexes(w)
  local flat = {}
  for _, e in ipairs(w.idx) do
    addId(ikey(w.k, e[1]), e[2], w.id)
    redis.call('SADD', base .. 'attrs', w.k .. ':i:' .. e[1])
    flat[#flat + 1] = e[1]
    flat[#flat + 1] = e[2]
  end
  return cmsgpack.pack(flat)
end

local function removeIndexes(k, id, packed)
  local old = cmsgpack.unpack(packed)
  for i = 1, #old, 2 do removeId(ikey(k, old[i]), old[i + 1], id) end
end

-- Rewrites the member hash of group w.id and keeps the reverse index (member id -> group ids) in step.
local function writeMembers(w, replacing)
  local mk = mkey(w.id)
  if replacing then
    local keep = {}
    for _, m in ipairs(w.members) do keep[m[1]] = true end
    for _, v in ipairs(redis.call('HKEYS', mk)) do
      if not keep[v] then removeId(MEMBER, v, w.id) end
    end
    redis.call('DEL', mk)
  end
  for _, m in ipairs(w.members) do
    redis.call('HSET', mk, m[1], m[2])
    addId(MEMBER, m[1], w.id)
  end
end
`;

/** Creates a resource: connection must exist, id and unique index values must be free. Reply {status, detail}. */
export const CREATE_RESOURCE = `${WRITE_PRELUDE}
local w = parseWrite()
if redis.call('EXISTS', base .. 'conn') == 0 then return { 'not_found' } end
local rk = rkey(w.k, w.id)
if redis.call('EXISTS', rk) == 1 then return { 'uniqueness', 'id' } end
local taken = conflict(w)
if taken then return { 'uniqueness', taken } end
local packed = addIndexes(w)
redis.call('ZADD', base .. w.k .. ':order', redis.call('INCR', base .. 'seq'), w.id)
redis.call('SET', rk, packRes(1, packed, w.json))
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
local rk = rkey(w.k, w.id)
local cur = redis.call('GET', rk)
if not cur then return { 'not_found' } end
local version, oldX = parseRes(cur)
if version ~= w.expected then return { 'version_mismatch', version } end
local taken = conflict(w)
if taken then return { 'uniqueness', taken } end
removeIndexes(w.k, w.id, oldX)
local packed = addIndexes(w)
redis.call('SET', rk, packRes(version + 1, packed, w.json))
if w.k == 'g' then
  redis.call('HSET', DN, w.id, w.dn)
  writeMembers(w, true)
end
return { 'ok', version + 1 }
`;

/**
 * Deletes a resource (ARGV: kind, id) with its index entries; removes it from every group listing it
 * (bumping those groups' versions) and, for a group, drops its members' reverse entries. Reply 1 or 0.
 */
export const DELETE_RESOURCE = `${PRELUDE}
local k, id = ARGV[1], ARGV[2]
local rk = rkey(k, id)
local cur = redis.call('GET', rk)
if not cur then return 0 end
local _, x = parseRes(cur)
local old = cmsgpack.unpack(x)
for i = 1, #old, 2 do removeId(ikey(k, old[i]), old[i + 1], id) end
redis.call('ZREM', base .. k .. ':order', id)
redis.call('DEL', rk)
local parents = redis.call('HGET', MEMBER, id)
if parents then
  for gid in string.gmatch(parents, '%S+') do
    redis.call('HDEL', mkey(gid), id)
    -- A group listing itself is already gone here and is skipped by the nil check.
    local g = redis.call('GET', rkey('g', gid))
    if g then
      local gv, gx, gjson = parseRes(g)
      redis.call('SET', rkey('g', gid), packRes(gv + 1, gx, gjson))
    end
  end
  redis.call('HDEL', MEMBER, id)
end
if k == 'g' then
  redis.call('HDEL', DN, id)
  local mk = mkey(id)
  for _, v in ipairs(redis.call('HKEYS', mk)) do removeId(MEMBER, v, id) end
  redis.call('DEL', mk)
end
return 1
`;

/**
 * Read helper: one resource as {id, json, version, aux} where aux is, for a user, flat (groupId, displayName)
 * pairs in group creation order, and for a group, flat (memberValue, meta) pairs (meta holds the position).
 */
const READ_PRELUDE = `${PRELUDE}
local function byScore(order, ids)
  local found = {}
  for _, id in ipairs(ids) do
    local s = redis.call('ZSCORE', order, id)
    if s then found[#found + 1] = { tonumber(s), id } end
  end
  table.sort(found, function(a, b) return a[1] < b[1] end)
  local out = {}
  for i, f in ipairs(found) do out[i] = f[2] end
  return out
end

local function split(list)
  local out = {}
  if list then
    for x in string.gmatch(list, '%S+') do out[#out + 1] = x end
  end
  return out
end

local function load(k, id)
  local s = redis.call('GET', rkey(k, id))
  if not s then return nil end
  local version, _, json = parseRes(s)
  local aux = {}
  if k == 'u' then
    for _, gid in ipairs(byScore(base .. 'g:order', split(redis.call('HGET', MEMBER, id)))) do
      local dn = redis.call('HGET', DN, gid)
      if dn then
        aux[#aux + 1] = gid
        aux[#aux + 1] = dn
      end
    end
  else
    aux = redis.call('HGETALL', mkey(id))
  end
  return { id, json, version, aux }
end
`;

/** Reads one resource (ARGV: kind, id). Reply: the loaded resource, or an empty array. */
export const GET_RESOURCE = `${READ_PRELUDE}
return load(ARGV[1], ARGV[2]) or {}
`;

/** Reads the resources an index value points at (ARGV: kind, attribute, value), in creation order. */
export const FIND_BY_INDEX = `${READ_PRELUDE}
local k = ARGV[1]
local out = {}
for _, id in ipairs(byScore(base .. k .. ':order', split(redis.call('HGET', ikey(k, ARGV[2]), ARGV[3])))) do
  local r = load(k, id)
  if r then out[#out + 1] = r end
end
return out
`;

/** Reads one page in creation order (ARGV: kind, offset, count). Reply {total, resources}. */
export const LIST_PAGE = `${READ_PRELUDE}
local k, offset, count = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local order = base .. k .. ':order'
local total = redis.call('ZCARD', order)
local out = {}
if count > 0 and offset < total then
  -- Clamped to the total so that a huge count never reaches ZRANGE as a float-formatted number.
  local stop = math.min(offset + count, total) - 1
  for _, id in ipairs(redis.call('ZRANGE', order, offset, stop)) do
    local r = load(k, id)
    if r then out[#out + 1] = r end
  end
end
return { total, out }
`;

/**
 * Deletes up to ARGV[1] users, then groups, of a connection being deleted; once none are left, deletes the
 * indexes and bookkeeping keys. Reply: how many resources it deleted (0 = finished).
 */
export const SWEEP_CONNECTION = `
local base = KEYS[1]
for _, k in ipairs({ 'u', 'g' }) do
  local order = base .. k .. ':order'
  local ids = redis.call('ZRANGE', order, 0, tonumber(ARGV[1]) - 1)
  if #ids > 0 then
    for _, id in ipairs(ids) do
      redis.call('UNLINK', base .. k .. ':r:' .. id)
      if k == 'g' then redis.call('UNLINK', base .. 'g:m:' .. id) end
      redis.call('ZREM', order, id)
    end
    return #ids
  end
end
for _, suffix in ipairs(redis.call('SMEMBERS', base .. 'attrs')) do redis.call('UNLINK', base .. suffix) end
redis.call('UNLINK', base .. 'attrs', base .. 'member', base .. 'seq', base .. 'u:order', base .. 'g:order',
  base .. 'g:dn', base .. 'dying')
return 0
`;

/*
 * Connection copies (the `conn` record, token keys, customer key) are stored as `<rev>:<json>`; `rev`
 * increases on every rotation so that writes of a slower, older rotation never overwrite a newer one.
 */

/** Writes KEYS[1] = ARGV[2] unless it holds a newer rev than ARGV[1]; ARGV[3] = PEXPIREAT ms or ''; ARGV[4] = 'xx' to only overwrite. */
export const SET_IF_NEWER = `
local cur = redis.call('GET', KEYS[1])
if cur then
  local rev = tonumber(string.match(cur, '^(%d+):'))
  if rev and rev > tonumber(ARGV[1]) then return 0 end
elseif ARGV[4] == 'xx' then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2])
if ARGV[3] ~= '' then redis.call('PEXPIREAT', KEYS[1], ARGV[3]) end
return 1
`;

/** Deletes KEYS[1] if it is a copy of connection ARGV[1] with rev below ARGV[2] ('' = any rev). Reply 1 or 0. */
export const DELETE_COPY = `
local cur = redis.call('GET', KEYS[1])
if not cur then return 0 end
local rev, json = string.match(cur, '^(%d+):(.*)$')
if not rev then return 0 end
-- Decoding the connection record (our own flat JSON) only to read its id; it is never re-encoded.
local ok, record = pcall(cjson.decode, json)
if not ok or type(record) ~= 'table' or record.connectionId ~= ARGV[1] then return 0 end
if ARGV[2] ~= '' and tonumber(rev) >= tonumber(ARGV[2]) then return 0 end
redis.call('DEL', KEYS[1])
return 1
`;

/** Compare-and-set of the `conn` record: reply 1 if its rev was ARGV[1] and it now holds ARGV[2], 0 if the rev moved, -1 if gone. */
export const CAS_CONNECTION = `
local cur = redis.call('GET', KEYS[1])
if not cur then return -1 end
if tonumber(string.match(cur, '^(%d+):')) ~= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1
`;

/**
 * Starts deleting a connection: renames `conn` (KEYS[1]) to `dying` (KEYS[2]) so that every resource write
 * fails from now on, and replies the record; or replies a `dying` record left by an interrupted delete, or ''.
 */
export const BEGIN_DELETE = `
local cur = redis.call('GET', KEYS[1])
if cur then
  redis.call('RENAME', KEYS[1], KEYS[2])
  return cur
end
return redis.call('GET', KEYS[2]) or ''
`;
