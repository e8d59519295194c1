/**
 * The bench's server processes (limit, scim-redis, scim-memory, the login app, section 5's report) run compiled JavaScript, as
 * an app runs the published package (tsc's dist/), not the TypeScript sources through tsx. Under tsx,
 * esbuild's keepNames wraps every nested function in a `__name(fn, "name")` call that runs at each
 * creation: `bench/request-cpu.ts` measured a memory lookup at 22.6–24.1 µs of CPU in process through tsx
 * and 13.1–19.6 µs compiled. Both the limit and scim-sso are compiled alike (bench/tsconfig.build.json, once
 * per process into .scratch/bench-build/); the sections that run in the bench's own process (guard, events)
 * still run through tsx, which only makes their figures more conservative.
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BUILD_DIR = fileURLToPath(new URL('../.scratch/bench-build/', import.meta.url));
const CONFIG = fileURLToPath(new URL('./tsconfig.build.json', import.meta.url));
let compiled = false;

/** Compiles the bench and what it imports (src, example-app) with tsc, once per process. */
export function compileBench(): void {
  if (compiled) return;
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', CONFIG], { stdio: 'inherit' });
  compiled = true;
}

/** The compiled file of a bench entry (`./scim-server.ts` -> .scratch/bench-build/bench/scim-server.js), compiling first if needed. */
export function compiledEntry(entry: string): string {
  compileBench();
  return join(BUILD_DIR, 'bench', entry.replace(/^\.\//, '').replace(/\.ts$/, '.js'));
}
