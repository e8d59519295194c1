/**
 * Hostile input (issue 6): a property-based fuzz suite over SCIM requests, on the memory and the Redis store.
 *
 * fast-check generates runs of {@link PER_RUN} requests (test/support/fuzz-requests.ts): realistic Okta /
 * Entra / OneLogin / JumpCloud payloads mutated in every way a broken or hostile client could, grammar-aware
 * and junk filters, PATCH operations, weird paths and methods, query strings, header and auth variants,
 * documents nested 1,000 and 10,000 levels deep, bodies near and over the 1 MB limit, invalid UTF-8. About
 * 90% go straight to `sso.handleScim` (exactly what the HTTP adapters call), the rest — and every request
 * whose bytes only HTTP can carry (over-limit bodies, chunked uploads) — through a real Express server.
 *
 * Each run works on a fresh SCIM connection seeded with a few users and groups, which the requests target
 * through placeholders. Invariants:
 *  - after EVERY request (test/support/scim-invariants.ts): the status is never 500, nor any other 5xx on
 *    this healthy store (501 only for the unsupported /Bulk, /Me and root /.search); every error is an
 *    RFC 7644 §3.12 body served as application/scim+json; success bodies are JSON with the SCIM media type;
 *    the handler never reported an unexpected error through `onError`; no audit event carries the token;
 *  - store consistency (test/support/consistency.ts), which is too slow to run after every request: after
 *    every run, i.e. every {@link PER_RUN} requests, and once more after the connection is deleted (nothing
 *    of it may remain).
 * A tenant that is never addressed lives in the same store throughout and must come out byte-for-byte
 * unchanged.
 *
 * Violations are collected (deduplicated, keeping the smallest request that showed each) rather than thrown
 * at the first one, so that one run reports every kind of failure; the test fails if there is any.
 * Reproducible: fixed seed by default; FUZZ_SEED=<n> varies it, FUZZ_RUNS=<n> scales it (requests per store
 * = FUZZ_RUNS × 200).
 */
import { Agent, createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scimSso, type ScimSso } from '../support/sso.js';
import type { AuditEvent } from '../../src/events.js';
import { hashToken } from '../../src/scim/auth.js';
import type { ResourceKind } from '../../src/store/store.js';
import { STORE_KINDS, type StoreKind } from '../support/app.js';
import { checkConnectionGone, checkConsistency, type ConsistencyReport } from '../support/consistency.js';
import {
  authorizationHeader,
  httpSafePath,
  materializeBody,
  requestArb,
  resolvePlaceholders,
  resolveQueryPlaceholders,
  stringsIn,
  USER,
  GROUP,
  type FuzzRequest,
  type Known,
} from '../support/fuzz-requests.js';
import { makeInspectableStore, type InspectableStore } from '../support/inspectable-store.js';
import { EventLogChecker } from '../support/event-invariants.js';
import { checkScimResponse, lowerHeaders, type ObservedResponse } from '../support/scim-invariants.js';
import { startEventLoopMonitor, yieldToEventLoop } from '../support/event-loop.js';
import { prototypeChanges, snapshotPrototypes } from '../support/prototype-integrity.js';
import { bodyText } from '../../src/scim/response-body.js';

const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : 0x5c1a_2026;
const RUNS = process.env.FUZZ_RUNS ? Number(process.env.FUZZ_RUNS) : 50;
/** Requests per fast-check run; the store consistency check runs after each run. */
const PER_RUN = 200;
/** Members of the big seeded group (`@@g:2@@`) that the 1,000-operation PATCH generator works on. */
const BIG_GROUP = 3_000;
const prototypesBefore = snapshotPrototypes();
const BASE = '/scim/v2';
const BASE_URL = `http://fuzz.test${BASE}`;
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

interface Outcome extends ObservedResponse {
  ms: number;
}

interface Violation {
  count: number;
  /** The problem as reported for the example below. */
  problem: string;
  example: string;
}

function preview(text: string, max = 300): string {
  const shown = text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text;
  return JSON.stringify(shown);
}

describe.each(STORE_KINDS)('fuzzing the SCIM endpoint on the %s store', (kind: StoreKind) => {
  let backing: InspectableStore;
  let sso: ScimSso;
  let server: Server;
  let origin: string;
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const unexpected: unknown[] = [];
  const events: AuditEvent[] = [];

  beforeAll(async () => {
    backing = await makeInspectableStore(kind, `fuzz-${kind}`);
    // The per-connection rate limit is off: the fuzz sends thousands of requests per second per connection,
    // and 429s would hide everything behind the limiter.
    sso = scimSso({ store: backing.store, rateLimit: false, onError: (error) => unexpected.push(error), onEvent: (event) => events.push(event) });
    server = createServer(express().use(sso));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    agent.destroy();
    await new Promise((resolve) => server.close(resolve));
    await backing.cleanup();
  });

  function viaHandler(token: string, r: FuzzRequest, path: string, body: Buffer | undefined): Promise<Outcome> {
    const headers: Record<string, string | undefined> = { ...r.headers, authorization: authorizationHeader(r.auth, token) };
    const started = performance.now();
    return sso
      .handleScim({
        method: r.method,
        path,
        query: new URLSearchParams(r.query),
        headers,
        // The adapters read a body for POST, PUT and PATCH only.
        body: BODY_METHODS.has(r.method.toUpperCase()) ? body : undefined,
        baseUrl: BASE_URL,
      })
      .then((res) => ({ status: res.status, headers: lowerHeaders(res.headers), body: bodyText(res.body), ms: performance.now() - started }));
  }

  function viaHttp(token: string, r: FuzzRequest, path: string, body: Buffer | undefined): Promise<Outcome> {
    const headers: Record<string, string> = { ...r.headers };
    const authorization = authorizationHeader(r.auth, token);
    if (authorization !== undefined) headers.authorization = authorization;
    const sendBody = body !== undefined && BODY_METHODS.has(r.method);
    if (sendBody && !r.chunked) headers['content-length'] = String(body.length);
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const req = httpRequest(`${origin}${BASE}${httpSafePath(path)}${r.query ? `?${r.query}` : ''}`, { method: r.method, headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: lowerHeaders(res.headers as Record<string, string | string[] | undefined>),
            body: Buffer.concat(chunks).toString('utf8'),
            ms: performance.now() - started,
          }),
        );
        res.on('error', reject);
      });
      req.on('error', reject);
      if (sendBody) {
        if (r.chunked) for (let i = 0; i < body.length; i += 65_536) req.write(body.subarray(i, i + 65_536));
        else req.write(body);
      }
      req.end();
    });
  }

  it(`keeps every invariant over ${RUNS * PER_RUN} generated requests (seed ${SEED})`, async () => {
    const monitor = startEventLoopMonitor(`fuzz suite, ${kind} store`);
    const tags = new Map<string, number>();
    const violations = new Map<string, Violation>();
    const statuses = new Map<number, number>();
    const count = { handler: 0, http: 0, seeding: 0, responseChecks: 0, consistencyChecks: 0, consistencyRuns: 0, users: 0, groups: 0 };
    let slowest = { ms: 0, what: '' };

    const record = (problem: string, example: string) => {
      // One entry per kind of problem: ids, numbers and quoted values are left out of the signature.
      const signature = problem
        .replace(UUID, '<id>')
        .replace(/"(?:[^"\\]|\\.)*"/g, '"…"')
        .replace(/\[(?:"…",?)*\]/g, '[…]')
        .replace(/\d+/g, '<n>')
        .slice(0, 240);
      const seen = violations.get(signature);
      if (!seen) violations.set(signature, { count: 1, problem, example });
      else {
        seen.count++;
        if (example.length < seen.example.length) Object.assign(seen, { problem, example });
      }
    };
    /** The last successful write of each resource in the current run, to point at the request behind an inconsistency. */
    const lastWrite = new Map<string, string>();
    const addConsistency = (report: ConsistencyReport, context: string) => {
      count.consistencyRuns++;
      count.consistencyChecks += report.checks;
      for (const problem of report.problems) {
        const writes = [...new Set(problem.match(UUID) ?? [])]
          .filter((id) => lastWrite.has(id))
          .map((id) => `\n      last write to ${id}: ${lastWrite.get(id)}`);
        record(`store inconsistent: ${problem}`, `${context}${writes.join('')}`);
      }
    };

    // A tenant nobody addresses: it must come out byte-for-byte unchanged.
    const bystander = await sso.createScimConnection({ customerId: `fuzz-${kind}-bystander` });
    const bystanderAuth = { authorization: `Bearer ${bystander.token}`, 'content-type': 'application/scim+json' };
    const seedCall = (method: string, path: string, body: unknown) =>
      sso.handleScim({ method, path, query: new URLSearchParams(), headers: bystanderAuth, body: Buffer.from(JSON.stringify(body)), baseUrl: BASE_URL });
    const b1 = JSON.parse(
      bodyText((await seedCall('POST', '/Users', { schemas: [USER], userName: 'seed0-a@example.com', externalId: 'shared-external-id' })).body)!,
    );
    await seedCall('POST', '/Groups', { schemas: [GROUP], displayName: 'Seed Group A', members: [{ value: b1.id }] });
    const snapshot = async () => {
      const out: string[] = [];
      for (const k of ['User', 'Group'] as ResourceKind[]) out.push(JSON.stringify(await backing.store.listPage(bystander.connectionId, k, 0, 1000)));
      return out.join('\n');
    };
    const bystanderBefore = await snapshot();

    const started = performance.now();
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(requestArb, { minLength: PER_RUN, maxLength: PER_RUN }), async (requests) => {
        const customerId = `fuzz-${kind}-${run++}`;
        const { token, connectionId } = await sso.createScimConnection({ customerId });
        const tokenHash = hashToken(token);
        const known: Known = { users: [], groups: [] };
        const gone: { kind: ResourceKind; id: string }[] = [];
        const probes: string[] = [];
        // Every acknowledged write has exactly its events, checked against the store after each request.
        const eventLog = new EventLogChecker(backing.store, connectionId);

        const execute = async (r: FuzzRequest, seeding = false) => {
          const path = resolvePlaceholders(r.path, known, undefined);
          const segments = path.split('/').filter((s) => s !== '');
          const decode = (s: string | undefined) => {
            try {
              return s === undefined ? undefined : decodeURIComponent(s);
            } catch {
              return s;
            }
          };
          const endpoint = (decode(segments[0]) ?? '').toLowerCase();
          const self = decode(segments[1]);
          const body = r.body ? materializeBody(r.body, (text) => resolvePlaceholders(text, known, self)) : undefined;
          const query = resolveQueryPlaceholders(r.query, known, self); // filters naming resources that exist
          if (body && body.length < 200_000) {
            try {
              stringsIn(JSON.parse(body.toString('utf8')), probes);
            } catch {
              // not JSON: nothing to probe
            }
          }
          const describeRequest = () =>
            `${r.via} ${r.method} ${preview(path, 120)}${query ? ` ?${preview(query, 200)}` : ''} auth=${r.auth}` +
            `${Object.keys(r.headers).length ? ` headers=${JSON.stringify(r.headers)}` : ''}` +
            `${body ? ` body(${body.length} B)=${preview(body.toString('utf8'), 400)}` : ''}${r.chunked ? ' chunked' : ''}`;

          const method = r.method.toUpperCase();
          const target = endpoint === 'users' ? 'User' : endpoint === 'groups' ? 'Group' : null;
          const before = await eventLog.before(method, target, self, segments.length);
          const errorsBefore = unexpected.length;
          const eventsBefore = events.length;
          let outcome: Outcome;
          // A macrotask turn between requests, so the event-loop monitor samples each request's own block.
          await yieldToEventLoop();
          monitor.step(`${r.method} ${path.replace(UUID, '<id>').slice(0, 40)} (${r.tag ?? 'base'}, ${body?.length ?? 0} B)`);
          try {
            const sent = { ...r, query };
            outcome = r.via === 'http' ? await viaHttp(token, sent, path, body) : await viaHandler(token, sent, path, body);
          } catch (error) {
            record(`request failed: ${String(error)}`, describeRequest());
            return;
          } finally {
            monitor.step('test code');
          }
          if (r.tag && !seeding) tags.set(r.tag, (tags.get(r.tag) ?? 0) + 1);
          if (seeding) count.seeding++;
          else count[r.via]++;
          statuses.set(outcome.status, (statuses.get(outcome.status) ?? 0) + 1);
          if (outcome.ms > slowest.ms) slowest = { ms: outcome.ms, what: `${r.method} ${path.slice(0, 60)} (${body?.length ?? 0} B)` };

          const check = checkScimResponse(outcome, { allowNotImplemented: ['bulk', 'me', '.search'].includes(endpoint) });
          count.responseChecks += check.checks + 1;
          const example = () => `${describeRequest()}\n      → ${outcome.status} ${preview(outcome.body ?? '', 200)}`;
          for (const problem of check.problems) record(problem, example());
          const created = outcome.status === 201 ? /"id":"([^"]+)"/.exec(outcome.body ?? '')?.[1] : undefined;
          const written = { method, kind: target, id: method === 'POST' ? created : self, segments: segments.length, status: outcome.status } as const;
          for (const problem of await eventLog.after(written, before)) record(`event log: ${problem}`, example());
          count.responseChecks++;
          // Issue 10: no request may change a built-in prototype (checked after every request).
          count.responseChecks++;
          for (const change of prototypeChanges(prototypesBefore)) record(`a built-in prototype changed: ${change}`, example());
          if (unexpected.length !== errorsBefore) {
            for (const error of unexpected.slice(errorsBefore)) {
              const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
              record(`onError reported an unexpected error: ${text}`, example());
            }
          }

          // The audit trail never carries the bearer token (or its hash), whatever the request.
          const emitted = JSON.stringify(events.slice(eventsBefore));
          events.length = 0;
          count.responseChecks++;
          if (emitted.includes(token) || emitted.includes(tokenHash)) record('an audit event carries the bearer token', example());

          // Track what exists, for the placeholders and the consistency checker.
          const kindOf = endpoint === 'users' ? 'User' : endpoint === 'groups' ? 'Group' : null;
          if (outcome.status === 201 && kindOf && outcome.body) {
            const created = JSON.parse(outcome.body) as { id: string; userName?: string; displayName?: string };
            if (kindOf === 'User') known.users.push({ id: created.id, userName: String(created.userName) });
            else known.groups.push({ id: created.id, displayName: String(created.displayName) });
            lastWrite.set(created.id, describeRequest());
          } else if (outcome.status < 300 && ['PUT', 'PATCH'].includes(r.method.toUpperCase()) && self !== undefined) {
            lastWrite.set(self, describeRequest());
          }
          if (outcome.status === 204 && r.method.toUpperCase() === 'DELETE' && kindOf && self !== undefined && segments.length === 2) {
            gone.push({ kind: kindOf, id: self });
          }
        };

        // Seed the connection: users sharing an externalId, one inactive, and two groups.
        const seedUser = (n: number, extra: Record<string, unknown>) =>
          execute(
            {
              via: 'handler',
              method: 'POST',
              path: '/Users',
              query: '',
              auth: 'good',
              headers: { 'content-type': 'application/scim+json' },
              body: {
                kind: 'json',
                value: {
                  schemas: [USER],
                  userName: `seed${n}-${run}@example.com`,
                  emails: [{ value: `seed${n}@example.com`, type: 'work', primary: true }],
                  ...extra,
                },
                text: [],
              },
            },
            true,
          );
        await seedUser(0, { externalId: 'shared-external-id', active: true });
        await seedUser(1, { externalId: 'shared-external-id', name: { givenName: 'Seed', familyName: 'One' } });
        await seedUser(2, { active: false });
        await seedUser(3, { externalId: `x-${run}` });
        for (const [displayName, members] of [
          ['Seed Group A', [0, 1]],
          ['Seed Group B', []],
        ] as const) {
          await execute(
            {
              via: 'handler',
              method: 'POST',
              path: '/Groups',
              query: '',
              auth: 'good',
              headers: {},
              body: { kind: 'json', value: { schemas: [GROUP], displayName, members: members.map((i) => ({ value: `@@u:${i}@@` })) }, text: [] },
            },
            true,
          );
        }
        await execute(
          {
            via: 'handler',
            method: 'POST',
            path: '/Groups',
            query: '',
            auth: 'good',
            headers: {},
            body: {
              kind: 'json',
              value: { schemas: [GROUP], displayName: 'Seed Group Big', members: Array.from({ length: BIG_GROUP }, (_, i) => ({ value: `big-member-${i}` })) },
              text: [],
            },
          },
          true,
        );

        lastWrite.clear();
        for (const request of requests) await execute(request);

        const context = `after run ${run - 1} (seed ${SEED}; rerun with FUZZ_SEED=${SEED} FUZZ_RUNS=${run})`;
        const report = await checkConsistency(backing.store, connectionId, { redis: backing.redis, probes, gone });
        count.users += report.users;
        count.groups += report.groups;
        addConsistency(report, context);
        await sso.deleteScimConnection(customerId);
        addConsistency(await checkConnectionGone(backing.store, connectionId, backing.redis), `${context}, after deleteScimConnection`);
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    const seconds = (performance.now() - started) / 1000;

    const bystanderAfter = await snapshot();
    count.consistencyChecks++;
    if (bystanderAfter !== bystanderBefore) record('a tenant no request addressed was changed', `bystander connection ${bystander.connectionId}`);

    const loop = monitor.stop(`fuzz-${kind}`);
    const requestsRun = count.handler + count.http;
    const byStatus = [...statuses.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([s, n]) => `${s}:${n}`)
      .join(' ');
    console.log(
      `[fuzz ${kind}] seed=${SEED} runs=${RUNS}: ${requestsRun} generated requests (${count.handler} via handleScim, ${count.http} via HTTP/Express) ` +
        `+ ${count.seeding} seeding requests in ${seconds.toFixed(1)} s; invariant checks: ${count.responseChecks + count.consistencyChecks} ` +
        `(${count.responseChecks} per-response, ${count.consistencyChecks} store-consistency in ${count.consistencyRuns} consistency passes: ` +
        `one after every ${PER_RUN} requests, one after each connection delete, plus the bystander); resources checked: ${count.users} users, ${count.groups} groups; ` +
        `statuses ${byStatus}; slowest ${slowest.ms.toFixed(0)} ms (${slowest.what}); distinct violations: ${violations.size}; ` +
        `issue-10 generators: ${[...tags.entries()].map(([tag, n]) => `${tag} ${n}`).join(', ')}; ` +
        `event-loop delay p99 ${loop.p99Ms} ms, max ${loop.maxMs} ms`,
    );
    expect(tags.size, 'every issue-10 generator produced requests').toBe(4);

    const report = [...violations.values()].map((v) => `[×${v.count}] ${v.problem.slice(0, 600)}\n    e.g. ${v.example}`);
    expect(requestsRun).toBeGreaterThanOrEqual(RUNS * PER_RUN);
    expect(report, `invariant violations on the ${kind} store (seed ${SEED})`).toEqual([]);
  }, 600_000);
});
