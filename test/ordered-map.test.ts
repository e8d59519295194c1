/** src/ordered-map.ts against a plain model: contents, and the order from the oldest to the newest set. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OrderedMap } from '../src/ordered-map.js';

describe('OrderedMap', () => {
  it('keeps the order in which keys were last set or used, under any sequence of operations', () => {
    const op = fc.record({
      kind: fc.constantFrom('set' as const, 'use' as const, 'delete' as const, 'dropOldest' as const),
      key: fc.integer({ min: 0, max: 6 }),
      value: fc.integer(),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const map = new OrderedMap<number, number>();
        let model: [number, number][] = []; // oldest first
        for (const { kind, key, value } of ops) {
          const held = model.find(([k]) => k === key);
          if (kind === 'set') {
            map.set(key, value);
            model = [...model.filter(([k]) => k !== key), [key, value]];
          } else if (kind === 'use') {
            expect(map.use(key)).toBe(held?.[1]);
            if (held) model = [...model.filter(([k]) => k !== key), held];
          } else if (kind === 'delete') {
            expect(map.delete(key)).toBe(held !== undefined);
            model = model.filter(([k]) => k !== key);
          } else {
            expect(map.oldest()).toEqual(model[0]);
            if (model.length > 0) map.delete(model.shift()![0]);
          }
          expect(map.size).toBe(model.length);
          expect(map.entries()).toEqual(model);
          expect(map.oldest()).toEqual(model[0]);
          for (const [k, v] of model) expect(map.get(k)).toBe(v);
        }
      }),
    );
  });
});
