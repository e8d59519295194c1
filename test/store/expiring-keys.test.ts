/**
 * src/store/expiring-keys.ts against a plain model: what it holds, what a full cache sweeps, evicts or refuses,
 * whatever the sequence of adds, reads, deletes and clock moves (its heap's rebuild included).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ExpiringKeys } from '../../src/store/expiring-keys.js';

describe('ExpiringKeys', () => {
  it('behaves as a plain model of expiring keys under any sequence of operations', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('add' as const), key: fc.integer({ min: 0, max: 8 }), ttl: fc.integer({ min: 1, max: 50 }), evict: fc.boolean() }),
      fc.record({ kind: fc.constant('get' as const), key: fc.integer({ min: 0, max: 8 }) }),
      fc.record({ kind: fc.constant('delete' as const), key: fc.integer({ min: 0, max: 8 }) }),
      fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 30 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.array(op, { maxLength: 300 }), (max, ops) => {
        let now = 0;
        const keys = new ExpiringKeys(max, () => now);
        // key -> value, expiry, insertion order
        const model = new Map<string, { value: string; expiry: number; seq: number }>();
        let seq = 0;
        ops.forEach((o, step) => {
          if (o.kind === 'tick') {
            now += o.ms;
            return;
          }
          const key = `k${o.key}`;
          if (o.kind === 'get') {
            const held = model.get(key);
            const live = held !== undefined && held.expiry > now;
            if (held && !live) model.delete(key);
            expect(keys.get(key)).toBe(live ? held.value : null);
          } else if (o.kind === 'delete') {
            keys.delete(key);
            model.delete(key);
          } else {
            let added = true;
            // Every add sweeps what has expired, full or not.
            for (const [k, e] of model) if (e.expiry <= now) model.delete(k);
            if (model.size >= max && !model.has(key)) {
              if (o.evict) {
                const first = [...model].sort(([, a], [, b]) => a.expiry - b.expiry || a.seq - b.seq)[0]!;
                model.delete(first[0]);
              } else added = false;
            }
            if (added) model.set(key, { value: `v${step}`, expiry: now + o.ttl, seq: seq++ });
            expect(keys.add(key, `v${step}`, o.ttl, o.evict)).toBe(added);
          }
          expect(keys.size).toBe(model.size);
        });
        for (const [key, e] of model) expect(keys.get(key)).toBe(e.expiry > now ? e.value : null);
      }),
    );
  });

  it('holds only live entries after an add, however far from full (each SAML login left its id until the share filled)', () => {
    let now = 0;
    const keys = new ExpiringKeys(30_000, () => now);
    for (let i = 0; i < 1000; i++) keys.add(`old${i}`, '1', 50, false);
    now = 50;
    keys.add('new', '1', 50, false);
    expect(keys.size).toBe(1);
  });

  it('keeps its order through heap rebuilds: many replaced and deleted keys, then a full cache evicts the first to expire', () => {
    let now = 0;
    const keys = new ExpiringKeys(3, () => now);
    // 600 adds and deletes of three keys leave hundreds of stale heap items: the heap is rebuilt many times.
    for (let i = 0; i < 200; i++) {
      keys.add('a', `a${i}`, 100 + i, true);
      keys.add('b', `b${i}`, 50, true);
      keys.delete('b');
    }
    keys.add('b', 'b', 10, true); // expires first
    keys.add('c', 'c', 1000, true);
    expect(keys.size).toBe(3);
    expect(keys.add('d', 'd', 1000, true)).toBe(true); // full: b, the first to expire, goes
    expect([keys.get('a'), keys.get('b'), keys.get('c'), keys.get('d')]).toEqual(['a199', null, 'c', 'd']);
    now = 299; // a expires at 299 (ttl 100 + 199)
    expect(keys.add('e', 'e', 1000, false)).toBe(true); // a is swept, so there is room without evicting
    expect([keys.get('a'), keys.get('c'), keys.get('d'), keys.get('e')]).toEqual([null, 'c', 'd', 'e']);
    expect(keys.add('f', 'f', 1000, false)).toBe(false); // full of live entries: refused
  });
});
