/**
 * An idle consumer keeps no memory per poll (src/provisioning/consumer.ts pause): each poll's wait raced a
 * promise that settles only at stop(), and every race left a reaction on it, about 316 bytes a poll (a soak
 * audit, 2026-12-07: 55 MB a day at the default 500 ms). Measured in bytes of heap per poll, after forced
 * garbage collections, over a few thousand polls of a consumer with nothing to read.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { expect, it } from 'vitest';
import { createScimSso, memoryStore } from '../../src/index.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const heapUsed = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it('keeps no memory per idle poll', async () => {
  const store = memoryStore();
  let polls = 0;
  const look = store.activeEventConnections.bind(store);
  store.activeEventConnections = (since: number) => {
    polls++;
    return look(since);
  };
  const sso = createScimSso({ store, activityLog: false });
  await sso.createScimConnection({ customerId: 'idle' });
  const consumer = sso.events.consume({ group: 'idle', handler: () => {}, pollIntervalMs: 1 });
  await sleep(500); // past the first look and its allocations
  const before = heapUsed();
  const pollsBefore = polls;
  // Enough polls for 316 bytes each to stand far above the noise, however slow the machine's timers run.
  const until = Date.now() + 20_000;
  while (polls - pollsBefore < 3000 && Date.now() < until) await sleep(250);
  const grown = heapUsed() - before;
  const idlePolls = polls - pollsBefore;
  await consumer.stop();
  expect(idlePolls).toBeGreaterThanOrEqual(1000);
  // Before the fix: about 316 bytes a poll. Noise of a few tens of KB over thousands of polls stays far below.
  expect(grown / idlePolls).toBeLessThan(60);
}, 30_000);
