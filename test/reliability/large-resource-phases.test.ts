/**
 * A write to a large resource is worked on in phases with a yield between them (src/event-loop.ts,
 * `yieldForResource`): a user or group holding 1,000 objects of 99 keys (970 KB, within every limit of
 * docs/limits.md) is parsed, patched, rebuilt, compared, serialised and diffed by a PATCH or PUT, each step
 * 3-15 ms, and a one-operation PATCH held the event loop 30-64 ms (a hostile-tenant audit, 2026-12-05).
 * Measured without a clock: a ticker on `setImmediate` counts the turns other tenants' callbacks got while
 * one such write ran, in process. The memory store itself never gives a turn, so there every turn counted is
 * a yield of the write path (the code before counted 0-3); on Redis the store's round trips give turns of
 * their own, so there the cases check the answers and audit events on the same path.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeStore, STORE_KINDS, type TestStore } from '../support/app.js';
import { scimRequest, scimSso, type ScimSso } from '../support/sso.js';
import { bodyText } from '../../src/scim/response-body.js';
import type { ScimResponse } from '../../src/scim/http.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/** 1,000 objects of 99 keys: about 970 KB of JSON. */
const wide = Array.from({ length: 1000 }, (_, i) => Object.fromEntries(Array.from({ length: 99 }, (_, k) => [`k${k}`, i])));

/** Runs `request` while counting the turns a setImmediate ticker gets before it answers. */
async function turnsDuring(request: () => Promise<ScimResponse>): Promise<{ status: number; turns: number }> {
  let turns = 0;
  let running = true;
  const tick = () => {
    if (!running) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  const response = await request();
  running = false;
  return { status: response.status, turns };
}

describe.each(STORE_KINDS)('writes to a large resource yield between their phases (%s store)', (kind) => {
  let store: TestStore;
  let sso: ScimSso;
  let token: string;
  let userId: string;
  let groupId: string;
  const events: string[] = [];
  const unexpected: unknown[] = [];
  beforeAll(async () => {
    store = await makeStore(kind, `large-resource-phases-${kind}`);
    // An onEvent listener, so the audit events of these writes are made too.
    sso = scimSso({ store: store.store, rateLimit: false, onError: (error) => unexpected.push(error), onEvent: (event) => events.push(event.type) });
    ({ token } = await sso.createScimConnection({ customerId: `large-resource-phases-${kind}` }));
    const created = async (path: string, body: unknown) => {
      const res = await sso.handleScim(scimRequest(token, 'POST', path, { body }));
      expect(res.status).toBe(201);
      return (JSON.parse(bodyText(res.body)!) as { id: string }).id;
    };
    userId = await created('/Users', { schemas: [USER], userName: 'wide@corp.test', active: true, x: wide });
    groupId = await created('/Groups', { schemas: [GROUP], displayName: 'wide', x: wide });
  }, 60_000);
  afterAll(async () => {
    expect(unexpected).toEqual([]);
    await store.cleanup();
  });

  const patch =
    (path: string, ...operations: unknown[]) =>
    () =>
      sso.handleScim(scimRequest(token, 'PATCH', path, { body: { schemas: [PATCH_OP], Operations: operations } }));

  // At least one turn between each pair of: parse, apply, rebuild, compare, serialise, diff, write.
  const cases: { name: string; request: () => () => Promise<ScimResponse>; status: number }[] = [
    {
      name: 'a user PATCH of one small attribute',
      request: () => patch(`/Users/${userId}`, { op: 'replace', path: 'title', value: `t${Math.random()}` }),
      status: 204,
    },
    {
      name: 'a user PATCH through a value filter',
      request: () => patch(`/Users/${userId}`, { op: 'replace', path: 'x[k5 eq 3].k1', value: Math.random() }),
      status: 204,
    },
    {
      name: 'a user PUT',
      request: () => () =>
        sso.handleScim(
          scimRequest(token, 'PUT', `/Users/${userId}`, {
            body: { schemas: [USER], userName: 'wide@corp.test', active: true, title: `t${Math.random()}`, x: wide },
          }),
        ),
      status: 200,
    },
    {
      name: 'a group PATCH of its displayName',
      request: () => patch(`/Groups/${groupId}`, { op: 'replace', path: 'displayName', value: `g${Math.random()}` }),
      status: 204,
    },
    {
      name: 'a group PATCH adding one member',
      request: () => patch(`/Groups/${groupId}`, { op: 'add', path: 'members', value: [{ value: userId }] }),
      status: 204,
    },
  ];

  it.each(cases)('$name', async ({ request, status }) => {
    const { status: answered, turns } = await turnsDuring(request());
    expect(answered).toBe(status);
    expect(turns).toBeGreaterThanOrEqual(5);
  });

  it('yields between PATCH operations that each scan a long member list, not only every 100 operations', async () => {
    // 1,500 members; each operation compares every member twice (display and value): 3,000 units of scan
    // work each, over PATCH_SCAN_PER_SLICE, so each ends a slice. Six stay within MAX_PATCH_SCAN.
    const members = Array.from({ length: 1_500 }, (_, i) => ({ value: `scan-member-${i}` }));
    const created = await sso.handleScim(scimRequest(token, 'POST', '/Groups', { body: { schemas: [GROUP], displayName: 'scanned', members } }));
    expect(created.status).toBe(201);
    const id = (JSON.parse(bodyText(created.body)!) as { id: string }).id;
    const scanning = (n: number) => Array.from({ length: n }, (_, i) => ({ op: 'remove', path: `members[display eq "x${i}" or value eq "absent-${i}"]` }));
    const one = await turnsDuring(patch(`/Groups/${id}`, ...scanning(1)));
    const six = await turnsDuring(patch(`/Groups/${id}`, ...scanning(6)));
    expect([one.status, six.status]).toEqual([204, 204]);
    // On Redis the round trips' waits give turns of their own, as many as the server's latency makes.
    if (kind === 'memory') expect(six.turns - one.turns).toBeGreaterThanOrEqual(5);
  });

  it('tells a deactivation apart in the audit events, from the objects in hand', async () => {
    events.length = 0;
    const { status } = await turnsDuring(patch(`/Users/${userId}`, { op: 'replace', path: 'active', value: false }));
    expect(status).toBe(204);
    expect(events).toContain('user.deactivated');
    const reactivated = await sso.handleScim(
      scimRequest(token, 'PATCH', `/Users/${userId}`, { body: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: true }] } }),
    );
    expect(reactivated.status).toBe(204);
    expect(events).toContain('user.reactivated');
  });
});
