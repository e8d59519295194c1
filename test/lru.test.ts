import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Lru } from '../src/lru.js';

describe('Lru, the bounded cache of per-process state', () => {
  it('never holds more than its capacity and evicts the least recently used entry', () => {
    const lru = new Lru<string, number>(3);
    for (let i = 0; i < 100; i++) lru.set(`k${i}`, i);
    expect(lru.size).toBe(3);
    expect([lru.has('k96'), lru.has('k97'), lru.has('k98'), lru.has('k99')]).toEqual([false, true, true, true]);
  });

  it('counts a read as a use: a read entry outlives entries set after it', () => {
    const lru = new Lru<string, number>(2);
    lru.set('a', 1).set('b', 2);
    expect(lru.get('a')).toBe(1);
    lru.set('c', 3);
    expect([lru.has('a'), lru.has('b'), lru.has('c')]).toEqual([true, false, true]);
  });

  it('replacing a key keeps one entry; deleteIf removes only the value it was given', () => {
    const lru = new Lru<string, string>(2);
    lru.set('a', 'old').set('a', 'new');
    expect(lru.size).toBe(1);
    expect(lru.deleteIf('a', 'old')).toBe(false);
    expect(lru.get('a')).toBe('new');
    expect(lru.deleteIf('a', 'new')).toBe(true);
    expect(lru.size).toBe(0);
  });

  it('behaves as a plain LRU model under any sequence of operations (its recency list included)', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), key: fc.integer({ min: 0, max: 5 }), value: fc.integer() }),
      fc.record({
        kind: fc.constantFrom('get' as const, 'delete' as const, 'deleteIf' as const, 'deleteWhere' as const),
        key: fc.integer({ min: 0, max: 5 }),
        value: fc.integer(),
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.option(fc.integer({ min: 1, max: 12 })), fc.array(op, { maxLength: 60 }), (capacity, maxWeight, ops) => {
        // Optionally bounded by weight too: each value weighs |value| mod 7.
        const weigh = (value: number) => Math.abs(value) % 7;
        const lru = new Lru<number, number>(capacity, maxWeight === null ? undefined : { maxWeight, weigh });
        let model: [number, number][] = []; // least recently used first
        const weightOf = () => model.reduce((sum, [, v]) => sum + weigh(v), 0);
        const touch = (key: number, value: number) => {
          model = [...model.filter(([k]) => k !== key), [key, value]];
        };
        for (const { kind, key, value } of ops) {
          const held = model.find(([k]) => k === key);
          if (kind === 'set') {
            lru.set(key, value);
            if (maxWeight !== null && weigh(value) > maxWeight) {
              model = model.filter(([k]) => k !== key); // too heavy to keep: only the old value goes
            } else {
              touch(key, value);
              model = model.slice(-capacity);
              if (maxWeight !== null) while (weightOf() > maxWeight) model.shift();
            }
          } else if (kind === 'get') {
            expect(lru.get(key)).toBe(held?.[1]);
            if (held) touch(key, held[1]);
          } else if (kind === 'delete') {
            expect(lru.delete(key)).toBe(held !== undefined);
            model = model.filter(([k]) => k !== key);
          } else if (kind === 'deleteIf') {
            const expected = held !== undefined && held[1] === value;
            expect(lru.deleteIf(key, value)).toBe(expected);
            if (expected) model = model.filter(([k]) => k !== key);
          } else {
            lru.deleteWhere((v) => v === value);
            model = model.filter(([, v]) => v !== value);
          }
          expect(lru.size).toBe(model.length);
          expect(lru.totalWeight).toBe(maxWeight === null ? 0 : weightOf());
          for (const [k] of model) expect(lru.has(k)).toBe(true);
        }
      }),
    );
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new Lru(0)).toThrow(RangeError);
    expect(() => new Lru(1.5)).toThrow(RangeError);
    expect(() => new Lru(1, { maxWeight: 0, weigh: () => 1 })).toThrow(RangeError);
  });
});
