/**
 * The docs cannot drift from the code:
 *
 * - every TypeScript block of README.md and example-app/README.md is a snippet, byte-identical to a file
 *   under examples/ (`<!-- snippet: examples/x.ts -->` before the fence: the whole file; `examples/x.ts#name`:
 *   the lines between `// #region name` and `// #endregion name`), or is explicitly marked as not compiled
 *   (`<!-- not compiled: why -->`);
 * - every snippet file is in tsconfig.json's program, so `npm run typecheck` compiles it;
 * - every repository path the docs name (backticked `src/…`, `test/…`, `docs/…`, `example-app/…`,
 *   `examples/…`, `bench/…`, and relative Markdown links) exists, and the entry-point tables of README.md and
 *   docs/architecture.md list exactly package.json's `exports`, each with the source file it is built from;
 * - the Express and Koa snippets run as a newcomer runs them (README "Express in 40 lines"): `tsx` as a child
 *   process against the demo IdP (example-app/snippet-idp.ts) and the test Redis, twice (the second start
 *   must not fail on the existing connection), then SCIM provisioning with the token the first start printed,
 *   a login, a refusal, a deactivation that ends the live session.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startSnippetIdp, type SnippetIdp } from '../../example-app/snippet-idp.js';
import { Browser } from '../support/browser.js';
import { scanKeys } from '../support/redis.js';
import { freePort } from '../support/redis-process.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const READMES = ['README.md', 'example-app/README.md'];
const DOCS = [
  ...READMES,
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

interface Block {
  readme: string;
  line: number;
  lang: string;
  /** The text between the fences, with its final newline. */
  code: string;
  /** The marker comment on the line before the fence, if any. */
  marker: string | null;
}

/** The fenced code blocks of a Markdown file (``` fences at the start of a line). */
function codeBlocks(readme: string): Block[] {
  const lines = read(readme).split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const end = lines.findIndex((l, j) => j > i && l === '```');
    if (end < 0) throw new Error(`${readme}:${i + 1}: unclosed code fence`);
    const previous = lines[i - 1]?.trim() ?? '';
    const marker = /^<!--.*-->$/.test(previous) ? previous : null;
    blocks.push({ readme, line: i + 1, lang: open[1]!, code: lines.slice(i + 1, end).join('\n') + '\n', marker });
    i = end;
  }
  return blocks;
}

/** The text a snippet reference names: a whole file, or one `#region` of it. */
function snippetText(reference: string): string {
  const [file, region] = reference.split('#') as [string, string | undefined];
  const text = read(file);
  if (!region) return text;
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.trim() === `// #region ${region}`);
  const end = lines.findIndex((l, i) => i > start && l.trim() === `// #endregion ${region}`);
  if (start < 0 || end < 0) throw new Error(`${file} has no region "${region}" (// #region ${region} … // #endregion ${region})`);
  return lines.slice(start + 1, end).join('\n') + '\n';
}

const blocks = READMES.flatMap(codeBlocks);
const typescriptBlocks = blocks.filter((b) => b.lang === 'ts' || b.lang === 'typescript');
const snippets = typescriptBlocks.flatMap((b) => {
  const reference = /^<!-- snippet: (\S+) -->$/.exec(b.marker ?? '')?.[1];
  return reference ? [{ ...b, reference, file: reference.split('#')[0]! }] : [];
});

describe('README snippets', () => {
  it('every TypeScript block is a snippet of a file under examples/, or says why it is not compiled', () => {
    const unmarked = typescriptBlocks.filter((b) => !/^<!-- (snippet: \S+|not compiled: .+) -->$/.test(b.marker ?? '')).map((b) => `${b.readme}:${b.line}`);
    expect(unmarked, 'put <!-- snippet: examples/<file>.ts --> (or <!-- not compiled: why -->) on the line before').toEqual([]);
    for (const s of snippets) expect(s.file, `${s.readme}:${s.line}`).toMatch(/^examples\/[\w-]+\.ts$/);
    // The two examples the README builds on are among them.
    expect(snippets.map((s) => s.reference)).toEqual(expect.arrayContaining(['examples/express.ts', 'examples/koa.ts']));
  });

  it.each(snippets.map((s) => [`${s.readme}:${s.line} ${s.reference}`, s] as const))('%s is byte-identical to its file', (_name, s) => {
    expect(s.code).toBe(snippetText(s.reference));
  });

  it('every snippet file is compiled by npm run typecheck (tsconfig.json)', () => {
    const configPath = join(ROOT, 'tsconfig.json');
    const config = ts.readConfigFile(configPath, ts.sys.readFile);
    expect(config.error).toBeUndefined();
    const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT, undefined, configPath);
    const program = new Set(parsed.fileNames.map((f) => relative(ROOT, f)));
    const files = new Set([...snippets.map((s) => s.file), ...readdirSync(join(ROOT, 'examples')).map((f) => `examples/${f}`)]);
    expect([...files].filter((f) => !program.has(f))).toEqual([]);
  });

  it('the Express example stays about 40 lines', () => {
    const express = snippets.find((s) => s.reference === 'examples/express.ts')!;
    expect(express.code.split('\n').length).toBeLessThanOrEqual(45);
  });
});

describe('repository paths named by the docs', () => {
  it.each(DOCS)('%s names only files and folders that exist', (doc) => {
    const text = read(doc);
    const missing: string[] = [];
    // Backticked paths from the repository root (`src/store/redis*.ts` is a glob over one folder).
    for (const [, path] of text.matchAll(/`((?:src|test|docs|example-app|examples|bench)\/[^`\s]*)/g)) {
      if (!repoPathExists(path!)) missing.push(`\`${path}\``);
    }
    // Relative Markdown links, from the document's folder (anchors and external links aside).
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const path = target!.split('#')[0]!;
      if (path === '' || /^[a-z]+:/i.test(path)) continue;
      if (!existsSync(resolve(ROOT, dirname(doc), path))) missing.push(`(${target})`);
    }
    expect(missing).toEqual([]);
  });
});

describe('the entry points the docs list', () => {
  const exportsMap = (JSON.parse(read('package.json')) as { exports: Record<string, { import?: string }> }).exports;
  const entries = Object.entries(exportsMap)
    .filter(([key]) => key !== './package.json')
    .map(([key, target]) => ({
      name: key === '.' ? 'scim-sso' : `scim-sso/${key.slice(2)}`,
      source: target.import!.replace(/^\.\/dist\/(.*)\.js$/, 'src/$1.ts'),
    }));

  it('README.md "Entry points" names exactly the package.json exports', () => {
    const section = read('README.md').split('### Entry points')[1]!.split('\n\n|')[1]!.split('\n\n')[0]!;
    const named = [...section.matchAll(/^\| ([^|]+) \|/gm)].flatMap(([, cell]) => [...cell!.matchAll(/`(scim-sso[^`]*)`/g)].map((m) => m[1]!));
    expect(named.sort()).toEqual(entries.map((e) => e.name).sort());
  });

  it('docs/architecture.md maps each entry to the source file package.json builds it from', () => {
    const text = read('docs/architecture.md');
    const rows = new Map([...text.matchAll(/^\| `(scim-sso[^`]*)` \| `(src\/[^`]+)` \|/gm)].map(([, name, file]) => [name!, file!]));
    expect(Object.fromEntries(rows)).toEqual(Object.fromEntries(entries.map((e) => [e.name, e.source])));
    for (const e of entries) expect(existsSync(join(ROOT, e.source)), e.source).toBe(true);
  });
});

function repoPathExists(path: string): boolean {
  const clean = path.replace(/[.,;:)]+$/, '');
  if (!clean.includes('*')) return existsSync(join(ROOT, clean));
  const folder = dirname(clean);
  const pattern = new RegExp(
    `^${clean
      .slice(folder.length + 1)
      .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')}$`,
  );
  return existsSync(join(ROOT, folder)) && readdirSync(join(ROOT, folder)).some((f) => pattern.test(f));
}

/** A snippet started as `tsx <file>` from the repository root (tsconfig.json maps `scim-sso/*` to src/). */
interface RunningSnippet {
  output(): string;
  stop(): Promise<void>;
}

/** Starts a snippet and resolves once it printed a line matching `ready`; rejects if it exits first. */
function startSnippet(file: string, env: NodeJS.ProcessEnv, ready: RegExp): Promise<RunningSnippet> {
  // Its own process group, so stopping it stops tsx's child too.
  const child: ChildProcess = spawn(join(ROOT, 'node_modules/.bin/tsx'), [file], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const running: RunningSnippet = {
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      process.kill(-child.pid!, 'SIGTERM');
      await exited;
    },
  };
  return new Promise((resolveStart, rejectStart) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (ready.test(output)) resolveStart(running);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => rejectStart(new Error(`${file} exited (${code}) before it was ready:\n${output}`)));
  });
}

/** Runs a snippet to its end (it is expected to exit by itself). */
function runToExit(file: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  const child = spawn(join(ROOT, 'node_modules/.bin/tsx'), [file], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((done) => child.once('exit', (code) => done({ code, output })));
}

/**
 * The snippets use the default Redis key prefix (`scim:`) and a `session:` prefix for Koa sessions, as an app
 * would. They run on a database of their own (15) of the test Redis, so no other test file's keys are near;
 * the keys they write are deleted before and after.
 */
function snippetRedisUrl(): string {
  const url = new URL(inject('redisUrl'));
  url.pathname = '/15';
  return url.href;
}

async function deleteSnippetKeys(url: string): Promise<void> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  for (const pattern of ['scim:*', 'session:*']) {
    const keys = await scanKeys(client, pattern);
    if (keys.length) await client.unlink(...keys);
  }
  await client.quit();
}

const SCIM_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const TOKEN_LINE = /SCIM base URL: (\S+) token: (\S+)/;
const LISTENING = /Log in at \S+\/sso\/acme\/login/;

describe.each(['examples/express.ts', 'examples/koa.ts'])('%s, run as the README says', (file) => {
  const redisUrl = snippetRedisUrl();
  let appUrl: string;
  let idp: SnippetIdp;
  let env: NodeJS.ProcessEnv;
  const running: RunningSnippet[] = [];

  beforeAll(async () => {
    await deleteSnippetKeys(redisUrl);
    const port = await freePort();
    appUrl = `http://127.0.0.1:${port}`;
    idp = await startSnippetIdp({ port: 0, appUrl });
    env = { ...process.env, ...idp.env, PORT: String(port), REDIS_URL: redisUrl, SESSION_SECRET: randomBytes(24).toString('hex') };
    delete env.APP_URL;
  });

  afterAll(async () => {
    for (const app of running) await app.stop();
    await idp?.idp.close();
    await deleteSnippetKeys(redisUrl);
  });

  it('prints its token once, restarts cleanly, admits a provisioned user, refuses the others, ends a deactivated session', async () => {
    // First start: creates acme's SCIM connection and prints the token (shown only this once).
    const first = await startSnippet(file, env, LISTENING);
    running.push(first);
    const [, baseUrl, token] = TOKEN_LINE.exec(first.output()) ?? [];
    expect(baseUrl).toBe(`${appUrl}/scim/v2`);
    expect(token).toMatch(/^scim_[A-Za-z0-9_-]{43}$/);
    await first.stop();

    // Second start on the same Redis: the connection exists, nothing crashes, no token is printed.
    const second = await startSnippet(file, env, LISTENING);
    running.push(second);
    expect(second.output()).toContain('acme has a SCIM token already');
    expect(second.output()).not.toMatch(TOKEN_LINE);

    // Provision Alice with the printed token, as Okta would.
    const scim = (method: string, path: string, body?: unknown) =>
      fetch(`${baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    const created = await scim('POST', '/Users', {
      schemas: [SCIM_USER],
      userName: 'alice@acme.test',
      externalId: '00u-alice',
      active: true,
      emails: [{ value: 'alice@acme.test', type: 'work', primary: true }],
    });
    expect(created.status).toBe(201);
    const alice = (await created.json()) as { id: string };

    // Alice logs in: admitted, /app shows the session user.
    const browser = new Browser();
    const login = await browser.navigate(`${appUrl}/sso/acme/login?login_hint=00u-alice`);
    expect(login.url).toBe(`${appUrl}/app`);
    expect(login.response.status).toBe(200);
    expect(await login.response.json()).toMatchObject({ customerId: 'acme', scimUserId: alice.id, userName: 'alice@acme.test' });

    // Carol was never provisioned: refused, to the snippet's own /login-refused route.
    const carol = await new Browser().navigate(`${appUrl}/sso/acme/login?login_hint=00u-carol`);
    expect(refusal(carol.url, appUrl)).toEqual({ error: 'ScimUserNotActive', reason: 'not_provisioned' });
    expect(carol.response.status).toBe(403);
    expect(await carol.response.json()).toEqual({ error: 'ScimUserNotActive', reason: 'not_provisioned' });

    // Entra-style deactivation: her live session ends at its next request, and her next login is refused.
    const deactivated = await scim('PATCH', `/Users/${alice.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] });
    expect(deactivated.status).toBe(204);
    const later = await browser.navigate(`${appUrl}/app`);
    expect(refusal(later.url, appUrl)).toEqual({ error: 'ScimUserNotActive', reason: 'deactivated' });
    await later.response.body?.cancel();
    const again = await browser.navigate(`${appUrl}/sso/acme/login?login_hint=00u-alice`);
    expect(refusal(again.url, appUrl)).toEqual({ error: 'ScimUserNotActive', reason: 'deactivated' });
    await again.response.body?.cancel();
  }, 120_000);

  it('stops with the name of a missing variable', async () => {
    const { SESSION_SECRET: _unset, ...withoutSecret } = env;
    const result = await runToExit(file, withoutSecret);
    expect(result.code).toBe(1);
    expect(result.output).toContain('Set SESSION_SECRET: see the README');
    expect(result.output, 'nothing is created before every variable is there').not.toMatch(TOKEN_LINE);
  }, 60_000);
});

/** The `?error=…&reason=…` of a refusal page URL, or the URL itself when it is not that page. */
function refusal(url: string, appUrl: string): Record<string, string> | string {
  const parsed = new URL(url);
  if (`${parsed.origin}${parsed.pathname}` !== `${appUrl}/login-refused`) return url;
  return Object.fromEntries(parsed.searchParams);
}
