/**
 * `npx tsx bench/lru.ts`: the cost of a set on a full Lru (src/lru.ts), the per-process cache behind the
 * token cache, rate-limit buckets, recent users and strategies, at capacities from 100 to 100,000. Each set
 * of a new key evicts the least recently used one; the figure must not grow with the capacity. Not part of
 * `npm run bench`.
 */
import { Lru } from '../src/lru.js';

const SETS = 200_000;
for (const capacity of [100, 10_000, 100_000]) {
  const lru = new Lru<string, string>(capacity);
  for (let i = 0; i < capacity; i++) lru.set(`old-${i}`, 'v');
  const start = process.hrtime.bigint();
  for (let i = 0; i < SETS; i++) lru.set(`new-${i}`, 'v');
  const ns = Number(process.hrtime.bigint() - start) / SETS;
  console.log(`capacity ${String(capacity).padStart(7)}: ${ns.toFixed(0).padStart(6)} ns per set of a new key (each evicts one), ${lru.size} entries kept`);
}
