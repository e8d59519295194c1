import { describe, expect, it } from 'vitest';
import { memberChunks } from '../../src/store/redis-group-lease.js';

const values = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}${i}`);

describe('memberChunks', () => {
  it('cuts removals then additions into chunks of at most the size, in order', () => {
    const chunks = memberChunks({ remove: values('r', 5), add: values('a', 7).map((value) => ({ value })) }, 3);
    expect(chunks.map((c) => [c.remove, c.add.map((m) => m.value)])).toEqual([
      [['r0', 'r1', 'r2'], []],
      [['r3', 'r4'], []],
      [[], ['a0', 'a1', 'a2']],
      [[], ['a3', 'a4', 'a5']],
      [[], ['a6']],
    ]);
  });

  it('marks the additions an earlier chunk removes, wherever they fall', () => {
    const chunks = memberChunks({ remove: ['x', 'y', 'z'], add: [{ value: 'a' }, { value: 'z' }, { value: 'x' }, { value: 'b' }] }, 2);
    expect(chunks.map((c) => c.cycled)).toEqual([[], [], [false, true], [true, false]]);
  });

  it('answers no chunk for no changes', () => {
    expect(memberChunks({ remove: [], add: [] }, 1000)).toEqual([]);
  });
});
