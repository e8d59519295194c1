/** A Redis client for one test file, with a key prefix of its own so files can run in parallel. */
import { randomBytes } from 'node:crypto';
import { Redis, type Cluster } from 'ioredis';
import { inject } from 'vitest';
import { memoryStore } from '../../src/store/memory.js';
import { redisStore } from '../../src/store/redis.js';
import { luaIndexCodes } from '../../src/store/redis-scripts.js';
import type { Store } from '../../src/store/store.js';

export interface TestRedis {
  client: Redis;
  /** Unique per call: `t:<hint>:<random>:`. */
  prefix: string;
  /** Deletes every key under the prefix and quits the client. */
  cleanup(): Promise<void>;
}

/** Every key matching a glob pattern, sorted (SCAN: fine in tests, never on a request path). */
export async function scanKeys(client: Redis, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys.sort();
}

/** Connects to the Redis provided by test/support/global-setup.ts. */
export async function testRedis(prefixHint: string): Promise<TestRedis> {
  const client = new Redis(inject('redisUrl'), { lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
  const prefix = `t:${prefixHint}:${randomBytes(6).toString('hex')}:`;
  return {
    client,
    prefix,
    async cleanup() {
      const keys = await scanKeys(client, `${prefix}*`);
      for (let i = 0; i < keys.length; i += 500) await client.unlink(...keys.slice(i, i + 500));
      await client.quit();
    },
  };
}

/** A store for one test file: the memory store, or the Redis store under a key prefix of its own. */
export async function testStore(kind: 'memory' | 'redis', prefixHint: string): Promise<{ store: Store; cleanup: () => Promise<void> }> {
  if (kind === 'memory') return { store: memoryStore(), cleanup: async () => {} };
  const made = await testRedis(prefixHint);
  return { store: redisStore({ client: made.client, prefix: made.prefix }), cleanup: made.cleanup };
}

/**
 * Cross-checks every structure of one connection in the Redis store (layout: src/store/redis.ts), in one
 * read-only Lua script on the connection's slot, and returns the problems found ([] = consistent):
 * - every resource (`<k>:r` field) has its `<k>:order` entry (same id, same seq) and vice versa;
 * - every index entry a resource holds (its packed `x`) is in the index hash, pointing at its seq;
 * - every index entry points at a live resource that holds that entry (no entry without resource);
 * - every sort member a resource holds (its packed `s`) is in its sort index and ends with the resource's
 *   seq, and every member of a sort index (`<k>:s:<attribute>`) is held by a live resource;
 * - group membership: `g:mz:<gid>` (with its metadata `g:mm:<gid>`) and the reverse `member` hash agree,
 *   and list live groups only (once every membership job has settled: `g:jobs` is empty);
 * - `g:dn` names exactly the live groups.
 * Works on a standalone client and on a Cluster (the script's one key carries the connection's hash tag).
 */
export async function storeProblems(client: Redis | Cluster, prefix: string, connectionId: string): Promise<string[]> {
  const reply = (await client.eval(CONSISTENCY_LUA, 1, `${prefix}{c:${connectionId}}:`)) as string[];
  return reply;
}

const CONSISTENCY_LUA = `
local base = KEYS[1]
local problems = {}
local function problem(s) problems[#problems + 1] = s end
local function parseRes(s)
  local v, il, xl, p = string.match(s, '^(%d+):(%d+):(%d+)()')
  if not v then return nil end
  local sl, e = string.match(s, '^/(%d+)/?(%d*)', p)
  sl = tonumber(sl or '0')
  p = string.find(s, ':', p, true)
  if not p then return nil end
  il, xl, p = tonumber(il), tonumber(xl), p + 1
  return { v = tonumber(v), id = string.sub(s, p, p + il - 1), x = string.sub(s, p + il, p + il + xl - 1),
    s = string.sub(s, p + il + xl, p + il + xl + sl - 1), e = tonumber(e) }
end
local rows = {}
local function has(list, item)
  return string.find(' ' .. (list or '') .. ' ', ' ' .. item .. ' ', 1, true) ~= nil
end
local live = { u = {}, g = {} }
local holders = {} -- '<k>\\0<attribute>\\0<value>' -> how many live resources hold it
for _, k in ipairs({ 'u', 'g' }) do
  local res = {}
  local flat = redis.call('HGETALL', base .. k .. ':r')
  for i = 1, #flat, 2 do
    local r = parseRes(flat[i + 1])
    if not r then problem(k .. ': malformed resource at seq ' .. flat[i]) else res[flat[i]] = r end
  end
  rows[k] = res
  local ranked = redis.call('ZRANGE', base .. k .. ':order', 0, -1, 'WITHSCORES')
  local ordered = {}
  for i = 1, #ranked, 2 do
    local id, seq = ranked[i], string.format('%d', tonumber(ranked[i + 1]))
    ordered[seq] = true
    local r = res[seq]
    if not r then problem(k .. ': order lists ' .. id .. ' at seq ' .. seq .. ' but no resource is stored there')
    elseif r.id ~= id then problem(k .. ': order says seq ' .. seq .. ' is ' .. id .. ', the resource says ' .. r.id)
    else live[k][id] = seq end
  end
  local held = {}
  for seq, r in pairs(res) do
    if not ordered[seq] then problem(k .. ': resource ' .. r.id .. ' (seq ' .. seq .. ') is missing from order') end
    local entries = cmsgpack.unpack(r.x)
    -- Attribute codes of the index entries (INDEX_CODE in src/store/redis-lua-prelude.ts).
    local names = { ${luaIndexCodes((name, code) => `[${code}] = '${name}'`)} }
    for i = 1, #entries, 2 do entries[i] = names[entries[i]] or entries[i] end
    for i = 1, #entries, 2 do
      held[seq .. '\\0' .. entries[i] .. '\\0' .. entries[i + 1]] = true
      local holding = k .. '\\0' .. entries[i] .. '\\0' .. entries[i + 1]
      holders[holding] = (holders[holding] or 0) + 1
      local seqs = redis.call('HGET', base .. k .. ':i:' .. entries[i], entries[i + 1])
      -- A crowded value ('+<unlisted> ...', src/store/crowded-values.ts) counts holders it does not list.
      if not has(seqs, seq) and not string.match(seqs or '', '^%+') then problem(k .. ': ' .. r.id .. ' holds ' .. entries[i] .. '=' .. entries[i + 1] .. ' but the index does not point at it') end
    end
    local sorted = {}
    if r.s ~= '' then sorted = cmsgpack.unpack(r.s) end
    for i = 1, #sorted, 2 do
      held[seq .. '\\0s\\0' .. sorted[i] .. '\\0' .. sorted[i + 1]] = true
      if not redis.call('ZSCORE', base .. k .. ':s:' .. sorted[i], sorted[i + 1]) then problem(k .. ': ' .. r.id .. ' holds a sort member of ' .. sorted[i] .. ' that its sort index lacks') end
      if string.match(sorted[i + 1], '(%d+)$') ~= seq then problem(k .. ': ' .. r.id .. ' (seq ' .. seq .. ') holds a sort member of ' .. sorted[i] .. ' for another seq') end
    end
  end
  for _, suffix in ipairs(redis.call('SMEMBERS', base .. 'attrs')) do
    local attr = string.match(suffix, '^' .. k .. ':i:(.*)$')
    if attr then
      local idx = redis.call('HGETALL', base .. suffix)
      for i = 1, #idx, 2 do
        local unlisted, listed = string.match(idx[i + 1], '^%+(%d+) ?(.*)$')
        listed = unlisted and listed or idx[i + 1]
        local count = tonumber(unlisted or '0')
        for _ in string.gmatch(listed, '%S+') do count = count + 1 end
        local holding = holders[k .. '\\0' .. attr .. '\\0' .. idx[i]] or 0
        if count ~= holding then problem(k .. ': index ' .. attr .. '=' .. idx[i] .. ' counts ' .. count .. ' holders, ' .. holding .. ' hold it') end
        if unlisted and tonumber(unlisted) == 0 then problem(k .. ': index ' .. attr .. '=' .. idx[i] .. ' is crowded with none unlisted') end
        for seq in string.gmatch(listed, '%S+') do
          if not res[seq] then problem(k .. ': index ' .. attr .. '=' .. idx[i] .. ' points at seq ' .. seq .. ', which holds no resource')
          elseif not held[seq .. '\\0' .. attr .. '\\0' .. idx[i]] then problem(k .. ': index ' .. attr .. '=' .. idx[i] .. ' points at ' .. res[seq].id .. ', which does not hold it') end
        end
      end
    end
    local sortAttr = string.match(suffix, '^' .. k .. ':s:(.*)$')
    if sortAttr then
      for _, member in ipairs(redis.call('ZRANGE', base .. suffix, 0, -1)) do
        local seq = string.match(member, '(%d+)$')
        if not (seq and held[seq .. '\\0s\\0' .. sortAttr .. '\\0' .. member]) then problem(k .. ': sort index ' .. sortAttr .. ' has a member no live resource holds (seq ' .. tostring(seq) .. ')') end
      end
    end
  end
end
if redis.call('HLEN', base .. 'g:jobs') > 0 then problem('unsettled membership jobs: ' .. table.concat(redis.call('HKEYS', base .. 'g:jobs'), ' ')) end
for gid, _ in pairs(live.g) do
  local members = redis.call('ZRANGE', base .. 'g:mz:' .. gid, 0, -1)
  local listed = {}
  for _, value in ipairs(members) do
    listed[value] = true
    if not has(redis.call('HGET', base .. 'member', value), gid) then problem('group ' .. gid .. ' lists ' .. value .. ' but member does not say so') end
  end
  local metas = redis.call('HKEYS', base .. 'g:mm:' .. gid)
  for _, value in ipairs(metas) do
    if not listed[value] then problem('group ' .. gid .. ' keeps metadata of ' .. value .. ', which it does not list') end
  end
  if not redis.call('HGET', base .. 'g:dn', gid) then problem('group ' .. gid .. ' has no g:dn entry') end
end
local reverse = redis.call('HGETALL', base .. 'member')
for i = 1, #reverse, 2 do
  for gid in string.gmatch(reverse[i + 1], '%S+') do
    if not live.g[gid] then problem('member says ' .. reverse[i] .. ' is in ' .. gid .. ', which is no live group')
    elseif not redis.call('ZSCORE', base .. 'g:mz:' .. gid, reverse[i]) then problem('member says ' .. reverse[i] .. ' is in ' .. gid .. ', whose member list does not list it') end
  end
end
-- The event log (src/store/redis-event-scripts.ts, "Shared JSON"): every kept entry of a written resource
-- finds its JSON in the row that names it or in its copy (never both); a row names only an entry about it;
-- every copy is listed for trimming.
local kept = {}
for _, entry in ipairs(redis.call('XRANGE', base .. 'ev', '-', '+')) do
  local f = {}
  for i = 1, #entry[2], 2 do f[entry[2][i]] = entry[2][i + 1] end
  local seq = string.match(entry[1], '%-(%d+)$')
  kept[seq] = f
  if f.s then
    local r = rows[f.k] and rows[f.k][f.s]
    local shared = r ~= nil and r.e == tonumber(seq)
    local copied = redis.call('HEXISTS', base .. 'ev:j', seq) == 1
    if not shared and not copied then problem('event entry ' .. seq .. ' has lost its resource JSON') end
    if shared and copied then problem('event entry ' .. seq .. ' is both shared by its row and copied') end
  end
end
for k, res in pairs(rows) do
  for seq, r in pairs(res) do
    local f = r.e and kept[string.format('%d', r.e)]
    if f and (f.k ~= k or f.s ~= seq) then problem(k .. ': ' .. r.id .. ' names event entry ' .. r.e .. ', which is about another resource') end
  end
end
local queued = {}
for _, seq in ipairs(redis.call('LRANGE', base .. 'ev:jq', 0, -1)) do
  if queued[seq] then problem('the copy of event entry ' .. seq .. ' is queued twice') end
  queued[seq] = true
end
local function held(seq) return redis.call('ZSCORE', base .. 'ev:held', seq) == tostring(tonumber(seq)) end
for _, seq in ipairs(redis.call('HKEYS', base .. 'ev:j')) do
  if not queued[seq] and not held(seq) then problem('the copy of event entry ' .. seq .. ' is not listed for freeing') end
end
for _, seq in ipairs(redis.call('HKEYS', base .. 'ev:ob')) do
  if not held(seq) then problem('the count of event entry ' .. seq .. ' is not listed for freeing') end
end
local dn = redis.call('HKEYS', base .. 'g:dn')
for _, gid in ipairs(dn) do
  if not live.g[gid] then problem('g:dn names ' .. gid .. ', which is no live group') end
end
return problems
`;

/** A store script as ioredis runs it (its command on the client, `scimSso_<name>_<hash>`). */
export type ScriptCall = (...args: unknown[]) => Promise<unknown>;

/**
 * Replaces the store script `name` on `client` (defined there when a store was made on it) with what `wrap`
 * makes of the real one: how a test makes a step of a write fail, stall or change under it, as a lost
 * process, a slow instance or another writer would, without mocking Redis.
 */
export function wrapStoreScript(client: Redis, name: string, wrap: (real: ScriptCall) => ScriptCall): () => void {
  const commands = client as unknown as Record<string, ScriptCall>;
  const names = [...Object.getOwnPropertyNames(client), ...Object.getOwnPropertyNames(Object.getPrototypeOf(client))];
  const command = names.find((n) => n.startsWith(`scimSso_${name}_`) && !n.endsWith('Buffer'));
  if (!command) throw new Error(`no script ${name} is defined on this client`);
  const original = commands[command]!;
  commands[command] = wrap(original.bind(client));
  // Restores the real script: the command as it was, own property or inherited.
  return () => {
    commands[command] = original;
  };
}
