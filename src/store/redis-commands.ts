/** Registers the Redis store's Lua scripts as ioredis commands (EVALSHA, one round trip per call). */
import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';

/** A Lua script: its source, how many of its arguments are keys, and whether it only reads. */
export interface ScriptSpec {
  lua: string;
  keys: number;
  readOnly: boolean;
}

/** Runs the script `name` with its keys then its other arguments. */
export type RunScript<N extends string> = (name: N, ...args: (string | number)[]) => Promise<unknown>;

type ScriptFn = (...args: (string | number)[]) => Promise<unknown>;

/**
 * Defines `scripts` on `client` unless already defined. Command names carry a hash of their source, so two
 * versions of this library sharing one client never overwrite each other's scripts, and several stores on
 * one client reuse one definition.
 */
const commandName = (name: string, lua: string) => `scimSso_${name}_${createHash('sha1').update(lua).digest('hex').slice(0, 8)}`;

export function defineScripts<N extends string>(client: Redis | Cluster, scripts: Record<N, ScriptSpec>): RunScript<N> {
  const commands = {} as Record<N, string>;
  for (const [name, s] of Object.entries(scripts) as [N, ScriptSpec][]) {
    const command = commandName(name, s.lua);
    commands[name] = command;
    if (typeof (client as unknown as Record<string, unknown>)[command] !== 'function') {
      client.defineCommand(command, { lua: s.lua, numberOfKeys: s.keys, readOnly: s.readOnly });
    }
  }
  return (name, ...args) => (client as unknown as Record<string, ScriptFn>)[commands[name]]!(...args);
}

/** Like {@link defineScripts}' runner, but the reply's strings arrive as Buffers (ioredis's `…Buffer` variant). */
export function bufferRunner<N extends string>(client: Redis | Cluster, scripts: Record<N, ScriptSpec>): RunScript<N> {
  defineScripts(client, scripts);
  const commands = Object.fromEntries(Object.entries(scripts).map(([name, s]) => [name, `${commandName(name, (s as ScriptSpec).lua)}Buffer`]));
  return (name, ...args) => (client as unknown as Record<string, ScriptFn>)[commands[name]!]!(...args);
}
