/** ShardedMap (src/sharded-map.ts) answers as a Map does, before and after it splits into shards. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ShardedMap } from '../src/sharded-map.js';

/** Both maps hold the same entries (order aside) and answer the same for `probes`. */
function expectSame(sharded: ShardedMap<number>, plain: Map<string, number>, probes: string[]): void {
  expect(sharded.size).toBe(plain.size);
  for (const key of probes) {
    expect(sharded.get(key)).toBe(plain.get(key));
    expect(sharded.has(key)).toBe(plain.has(key));
  }
  expect([...sharded.entries()].sort(([a], [b]) => (a < b ? -1 : 1))).toEqual([...plain.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
  expect(new Set(sharded.keys())).toEqual(new Set(plain.keys()));
  expect([...sharded.values()].sort((a, b) => a - b)).toEqual([...plain.values()].sort((a, b) => a - b));
}

describe('ShardedMap', () => {
  it('matches a Map under random sets, overwrites and deletes while small', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.string({ maxLength: 3 }), fc.integer()), { maxLength: 200 }), (ops) => {
        const sharded = new ShardedMap<number>();
        const plain = new Map<string, number>();
        for (const [isSet, key, value] of ops) {
          if (isSet) {
            expect(sharded.set(key, value)).toBe(sharded);
            plain.set(key, value);
          } else expect(sharded.delete(key)).toBe(plain.delete(key));
        }
        expectSame(
          sharded,
          plain,
          ops.map(([, key]) => key),
        );
      }),
      { seed: 7, numRuns: 200 },
    );
  });

  it('keeps every entry across the split into shards and after, with deletes and overwrites on both sides', () => {
    const sharded = new ShardedMap<number>();
    const plain = new Map<string, number>();
    const key = (i: number) => `user-${i}@corp.example`;
    for (let i = 0; i < 40_000; i++) {
      sharded.set(key(i), i);
      plain.set(key(i), i);
      if (i % 7 === 0) {
        sharded.delete(key(i - 3));
        plain.delete(key(i - 3));
      }
      if (i % 11 === 0) {
        sharded.set(key(i >> 1), -i);
        plain.set(key(i >> 1), -i);
      }
    }
    expectSame(sharded, plain, [key(0), key(3), key(32_767), key(39_999), key(40_000), 'absent']);
    for (let i = 0; i < 40_000; i += 2) {
      expect(sharded.delete(key(i))).toBe(plain.delete(key(i)));
    }
    expectSame(sharded, plain, [key(1), key(2), key(39_999)]);
  });
});
