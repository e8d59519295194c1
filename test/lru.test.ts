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

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new Lru(0)).toThrow(RangeError);
    expect(() => new Lru(1.5)).toThrow(RangeError);
  });
});
