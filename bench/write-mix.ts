/**
 * The SCIM write mix two bench sections compare variants with (events on/off, replica acks on/off): each
 * writer POSTs an Okta user then PATCHes it inactive (Entra's PATCH), through `handleScim` in this process,
 * in alternating slices so that load from other processes hits both variants alike.
 */
import { bodyText } from '../src/scim/response-body.js';
import type { BenchSso } from './sso-options.js';
import { entraActivePatch, oktaUser } from './users.js';

export interface WriteMixSettings {
  /** Concurrent writers per slice. */
  concurrency: number;
  /** Slices per variant (alternating a, b, a, b…). */
  slices: number;
  /** Seconds per slice. */
  seconds: number;
}

/** One variant: an app and a token of one of its connections. */
export interface WriteTarget {
  sso: BenchSso;
  token: string;
}

/** Writes (POST then PATCH of a user) for `seconds` with `concurrency` writers; answers the writes done. */
async function writeFor(target: WriteTarget, tag: string, settings: WriteMixSettings, counter: { n: number }): Promise<number> {
  const until = Date.now() + settings.seconds * 1000;
  let writes = 0;
  const send = (method: string, path: string, body: unknown) =>
    target.sso.handleScim({
      method,
      path,
      query: new URLSearchParams(),
      headers: { authorization: `Bearer ${target.token}`, 'content-type': 'application/scim+json' },
      body: Buffer.from(JSON.stringify(body)),
      baseUrl: 'http://bench/scim/v2',
    });
  await Promise.all(
    Array.from({ length: settings.concurrency }, async () => {
      while (Date.now() < until) {
        const created = await send('POST', '/Users', oktaUser(tag, counter.n++));
        if (created.status !== 201) throw new Error(`bench write mix: POST answered ${created.status}`);
        const id = (JSON.parse(bodyText(created.body)!) as { id: string }).id;
        const patched = await send('PATCH', `/Users/${id}`, entraActivePatch(false));
        if (patched.status >= 300) throw new Error(`bench write mix: PATCH answered ${patched.status}`);
        writes += 2;
      }
    }),
  );
  return writes;
}

/**
 * Writes per second of `a` and `b`, and the writes counted, after a warm-up of each (JIT, script cache,
 * connections) that is not counted; `afterWarmUp` runs between the two.
 */
export async function alternatingWrites(
  a: WriteTarget,
  b: WriteTarget,
  settings: WriteMixSettings,
  afterWarmUp?: () => Promise<void>,
): Promise<{ a: number; b: number; writes: { a: number; b: number } }> {
  const totals = { a: 0, b: 0 };
  const counter = { n: 0 };
  for (const target of [a, b]) await writeFor(target, 'warm', { ...settings, seconds: Math.min(1, settings.seconds) }, counter);
  await afterWarmUp?.();
  for (let slice = 0; slice < settings.slices * 2; slice++) {
    const variant = slice % 2 === 0 ? 'a' : 'b';
    totals[variant] += await writeFor(variant === 'a' ? a : b, `mix${variant}`, settings, counter);
  }
  const seconds = settings.slices * settings.seconds;
  return { a: totals.a / seconds, b: totals.b / seconds, writes: totals };
}
