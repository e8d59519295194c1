/**
 * Lua sources of the Redis store's connection records (see redis.ts). Connection copies (the `conn` record,
 * token keys, customer key) are stored as `<rev>:<json>`; `rev` increases on every rotation so that writes of
 * a slower, older rotation never overwrite a newer one. Every script takes one key, except BEGIN_DELETE,
 * whose two keys (`conn`, `dying`) share the connection's hash tag. SWEEP_CONNECTION deletes, in batches,
 * the data of a connection being deleted.
 */
import { linkLua } from './lua-link.js';
import { PRELUDE } from './redis-lua-prelude.js';

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

/**
 * Claims token key KEYS[1] (ARGV: connectionId, rev, value, PEXPIREAT ms or '', now ms, the key's token
 * hash) for a copy of connection ARGV[1], atomically: written when the key is absent, holds an older copy
 * of the same connection, or holds another connection's copy in which this hash is no longer live (neither
 * its current token nor an unexpired previous one). Reply 1 written, 0 skipped (a newer copy of the same
 * connection is there), -1 refused (another connection's live token, or an unreadable value).
 */
export const CLAIM_TOKEN = `
local cur = redis.call('GET', KEYS[1])
if cur then
  local rev, json = string.match(cur, '^(%d+):(.*)$')
  if not rev then return -1 end
  local ok, record = pcall(cjson.decode, json)
  if not ok or type(record) ~= 'table' then return -1 end
  if record.connectionId == ARGV[1] then
    if tonumber(rev) > tonumber(ARGV[2]) then return 0 end
  else
    local hash = ARGV[6]
    if record.tokenHash == hash then return -1 end
    local expires = record.previousTokenExpiresAt
    if record.previousTokenHash == hash and type(expires) == 'number' and expires > tonumber(ARGV[5]) then return -1 end
  end
end
redis.call('SET', KEYS[1], ARGV[3])
if ARGV[4] ~= '' then redis.call('PEXPIREAT', KEYS[1], ARGV[4]) end
return 1
`;

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
      -- A user's login projection goes with its row: the batch lookup reads projections without its row.
      if k == 'u' then redis.call('HDEL', LP, fmt(ranked[i + 1])) end
      if k == 'g' then redis.call('UNLINK', mzkey(ranked[i]), mmkey(ranked[i]), leaseKey(ranked[i])) end
      redis.call('ZREM', order(k), ranked[i])
    end
    return #ranked / 2
  end
end
-- Unsettled jobs (staging or trash lists, the groups a touch job, the users and reverse-index moves the bump job have left);
-- UNLINK frees large values off the main thread.
local jobs = redis.call('HKEYS', JOBS)
for i = 1, math.min(#jobs, tonumber(ARGV[1])) do
  for _, part in ipairs({ 'st', 'sd', 'sb', 'b', 'x', 'cap', 'base', 't', 'v', 'r' }) do redis.call('UNLINK', jobKey(jobs[i], part)) end
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
  sortedKey('u'), sortedKey('g'), rowsKey('u'), rowsKey('g'), GONE, LP, BYTES, MB, GTOP, JOBS_MOVED, base .. 'dying')
return 0
`,
);
