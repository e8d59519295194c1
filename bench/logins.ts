/**
 * Section 4 (c): full logins per second through the login stack of bench/login-app.ts (a child process with
 * the demo IdP inside), driven by headless browsers (test/support/browser.ts), a fresh one (no cookies) per
 * login, `concurrency` at a time. The variants run in alternating rounds so that they share the machine's
 * good and bad moments. A login counts only if it ends at /me with the right session user.
 */
import { Browser } from '../test/support/browser.js';
import { startChild } from './child.js';
import { percentile } from './load.js';

export interface LoginSettings {
  concurrency: number;
  /** Seconds of unmeasured logins (all variants in turn) before the rounds. */
  warmup: number;
  rounds: number;
  secondsPerRound: number;
  users: number;
}

export const LOGIN_VARIANTS = ['plain', 'guard', 'authRoutes', 'nativefetch'] as const;
type Variant = (typeof LOGIN_VARIANTS)[number];

export interface LoginFigures {
  variant: Variant;
  logins: number;
  seconds: number;
  loginsPerSecond: number;
  p50: number;
  p99: number;
  wrong: number;
  firstWrong: string | null;
  /** CPU time of the login app's process (app + demo IdP) per login, ms: what a login costs, not how long it waits. */
  appCpuMsPerLogin: number;
}

export async function runLogins(redisUrl: string, settings: LoginSettings, log: (s: string) => void): Promise<LoginFigures[]> {
  const t0 = Date.now();
  const app = await startChild('login-app', './login-app.ts', { BENCH_REDIS_URL: redisUrl, BENCH_USERS: String(settings.users) });
  log(`  login app with demo IdP and ${settings.users} SCIM users ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const origin = String(app.info.origin);
  const customer = String(app.info.customer);
  const people = app.info.people as { sub: string; scimUserId: string }[];
  const paths: Record<Variant, string> = {
    plain: '/plain/login',
    guard: '/guard/login',
    authRoutes: `/sso/${customer}/login`,
    nativefetch: '/nativefetch/login',
  };
  const stats = new Map<Variant, { logins: number; seconds: number; cpuUs: number; times: number[]; wrong: number; firstWrong: string | null }>();
  for (const v of LOGIN_VARIANTS) stats.set(v, { logins: 0, seconds: 0, cpuUs: 0, times: [], wrong: 0, firstWrong: null });
  let n = 0;

  async function login(variant: Variant): Promise<string | null> {
    const person = people[n++ % people.length]!;
    const browser = new Browser();
    const { response, url } = await browser.navigate(`${origin}${paths[variant]}?login_hint=${encodeURIComponent(person.sub)}`);
    const text = await response.text();
    if (response.status !== 200 || !url.endsWith('/me')) return `ended at ${url} with ${response.status}: ${text.slice(0, 120)}`;
    const user = JSON.parse(text) as { sub?: string; subject?: string; scimUserId?: string };
    if (variant === 'plain' || variant === 'nativefetch') return user.sub === person.sub ? null : `session user ${text}`;
    return user.scimUserId === person.scimUserId && user.subject === person.sub ? null : `session user ${text}`;
  }

  try {
    // Warm every path (discovery, JIT, the IdP's caches) before measuring.
    const warmUntil = Date.now() + settings.warmup * 1000;
    let w = 0;
    await Promise.all(
      Array.from({ length: settings.concurrency }, async () => {
        while (Date.now() < warmUntil) await login(LOGIN_VARIANTS[w++ % LOGIN_VARIANTS.length]!).catch(() => null);
      }),
    );
    for (let round = 0; round < settings.rounds; round++) {
      // Each round starts with another variant, so none is always first or last.
      const order = LOGIN_VARIANTS.map((_, i) => LOGIN_VARIANTS[(i + round) % LOGIN_VARIANTS.length]!);
      for (const variant of order) {
        const s = stats.get(variant)!;
        const cpuBefore = await app.cpu();
        const start = Date.now();
        const until = start + settings.secondsPerRound * 1000;
        await Promise.all(
          Array.from({ length: settings.concurrency }, async () => {
            while (Date.now() < until) {
              const t = process.hrtime.bigint();
              const problem = await login(variant).catch((error: Error) => `error: ${error.message}`);
              s.times.push(Number(process.hrtime.bigint() - t) / 1e6);
              if (problem) {
                s.wrong++;
                s.firstWrong ??= problem;
              } else s.logins++;
            }
          }),
        );
        s.seconds += (Date.now() - start) / 1000;
        s.cpuUs += (await app.cpu()) - cpuBefore;
      }
    }
  } finally {
    await app.stop();
  }
  return LOGIN_VARIANTS.map((variant) => {
    const s = stats.get(variant)!;
    s.times.sort((a, b) => a - b);
    const figures: LoginFigures = {
      variant,
      logins: s.logins,
      seconds: s.seconds,
      loginsPerSecond: s.logins / s.seconds,
      p50: percentile(s.times, 50),
      p99: percentile(s.times, 99),
      wrong: s.wrong,
      firstWrong: s.firstWrong,
      appCpuMsPerLogin: s.logins + s.wrong > 0 ? s.cpuUs / 1000 / (s.logins + s.wrong) : NaN,
    };
    log(
      `  ${variant.padEnd(10)} ${figures.loginsPerSecond.toFixed(1)} logins/s, p50 ${figures.p50.toFixed(1)} ms, app CPU ${figures.appCpuMsPerLogin.toFixed(2)} ms/login${s.wrong ? `, ${s.wrong} WRONG: ${s.firstWrong}` : ''}`,
    );
    return figures;
  });
}
