/**
 * Watching a real store at its edge, without mocking it: every method call of a Store can be wrapped
 * (counted, timed, or made to fail), and the commands ioredis sends can be traced through its
 * diagnostics channels (`ioredis:command`, `ioredis:batch` for a pipeline or MULTI).
 */
import { tracingChannel } from 'node:diagnostics_channel';
import type { Store } from '../../src/store/store.js';

/** The store, with every method call going through `around(method, call, args)`; `call()` runs the real method. */
export function aroundStoreCalls(store: Store, around: (method: string, call: () => unknown, args: unknown[]) => unknown): Store {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => around(String(property), () => (value as (...a: unknown[]) => unknown).apply(target, args), args);
    },
  });
}

/** One store call as {@link recordStoreCalls} notes it. */
export interface StoreCall {
  method: string;
  args: unknown[];
}

/** The store, noting every method call (name and arguments) in `calls`. */
export function recordStoreCalls(store: Store): { store: Store; calls: StoreCall[] } {
  const calls: StoreCall[] = [];
  return { store: aroundStoreCalls(store, (method, call, args) => (calls.push({ method, args }), call())), calls };
}

const noop = () => {};
const commandChannel = tracingChannel<unknown, { command: string; args?: unknown[] }>('ioredis:command');
const batchChannel = tracingChannel<unknown, object>('ioredis:batch');

/**
 * Calls `onCommand` with each command name ioredis starts (and its arguments as ioredis shows them to
 * tracers), and with `<batch>` for each pipeline or MULTI, until the returned function is called.
 */
export function traceRedisCommands(onCommand: (command: string, args: readonly unknown[]) => void): () => void {
  const commands = {
    start: (context: { command: string; args?: unknown[] }) => onCommand(context.command, context.args ?? []),
    end: noop,
    asyncStart: noop,
    asyncEnd: noop,
    error: noop,
  };
  const batches = { start: () => onCommand('<batch>', []), end: noop, asyncStart: noop, asyncEnd: noop, error: noop };
  commandChannel.subscribe(commands);
  batchChannel.subscribe(batches);
  return () => {
    commandChannel.unsubscribe(commands);
    batchChannel.unsubscribe(batches);
  };
}
