/** The event-loop helpers (src/event-loop.ts): work in chunks yields between them, and keeps order. */
import { describe, expect, it } from 'vitest';
import { mapInChunks } from '../src/event-loop.js';

describe('mapInChunks', () => {
  it('runs at most `size` at once, in order, with other callbacks between chunks', async () => {
    let running = 0;
    let most = 0;
    const between: number[] = [];
    let done = 0;
    const tick = () => {
      between.push(done);
      if (done < 25) setImmediate(tick);
    };
    setImmediate(tick);
    const out = await mapInChunks(
      Array.from({ length: 25 }, (_, i) => i),
      10,
      async (i) => {
        most = Math.max(most, ++running);
        await Promise.resolve();
        running--;
        done++;
        return i * 2;
      },
    );
    expect(out).toEqual(Array.from({ length: 25 }, (_, i) => i * 2));
    expect(most).toBe(10);
    // The ticker ran after the first chunk and after the second, before the work was all done.
    expect(between).toContain(10);
    expect(between).toContain(20);
  });
});
