/**
 * Group writes waiting for a group's write lease (src/scim/lease-waiters.ts), on both stores: past the
 * connection's budget (LEASE_WAIT_BYTES_PER_CONNECTION) the next is refused at once with 503 and
 * `Retry-After` instead of waiting with its body parsed and planned; another connection's writes go on
 * meanwhile; nothing refused is written, and every waiter's count is given back. And a request body read
 * leaves nothing on its stream that would keep the body as long as the request (src/scim/body.ts).
 */
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readBody } from '../../src/scim/body.js';
import { leaseWaiters, waiterWeight } from '../../src/scim/lease-waiters.js';
import { LEASE_WAIT_BYTES_PER_CONNECTION, LEASE_WAITER_BYTES_PER_VALUE } from '../../src/scim/limits.js';
import { SCIM_ERROR_SCHEMA } from '../../src/errors.js';
import { STORE_KINDS, scimTestApp, type ScimTestApp } from '../support/app.js';

const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
/** Member values of each large PATCH: past PHASED_MEMBERS, so it takes the group's lease. */
const VALUES = 20_000;
/** Large PATCHes that fit the connection's budget exactly: each weighs an eighth of it. */
const FITTING = 8;
const BURST = FITTING + 4;

/** A `replace members` PATCH of VALUES values, padded to weigh exactly LEASE_WAIT_BYTES_PER_CONNECTION / FITTING. */
function largePatch(tag: string): string {
  const bytes = LEASE_WAIT_BYTES_PER_CONNECTION / FITTING - VALUES * LEASE_WAITER_BYTES_PER_VALUE;
  const body = (pad: (i: number) => string) =>
    JSON.stringify({
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', path: 'members', value: Array.from({ length: VALUES }, (_, i) => ({ value: `${tag}-${i}-${pad(i)}` })) }],
    });
  // Each value padded alike, the remainder one character each on the first values.
  const short = bytes - body(() => '').length;
  const text = body((i) => 'x'.repeat(Math.floor(short / VALUES) + (i < short % VALUES ? 1 : 0)));
  expect(Buffer.byteLength(text)).toBe(bytes);
  expect(waiterWeight(bytes, VALUES)).toBe(LEASE_WAIT_BYTES_PER_CONNECTION / FITTING);
  return text;
}

describe.each(STORE_KINDS)('group writes waiting for a lease, on the %s store', (kind) => {
  let t: ScimTestApp;
  const a = { token: '', connectionId: '' };
  const b = { token: '', connectionId: '' };
  beforeAll(async () => {
    t = await scimTestApp(kind, `lease-waiters-${kind}`);
    Object.assign(a, await t.sso.createScimConnection({ customerId: 'waiters-a' }));
    Object.assign(b, await t.sso.createScimConnection({ customerId: 'waiters-b' }));
  });
  afterAll(async () => {
    expect(t.unexpected).toEqual([]);
    await t.cleanup();
  });

  const send = (token: string, method: string, path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${t.origin}/scim/v2${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/scim+json', ...headers },
      body,
    });
  const createGroup = async (token: string, displayName: string) => {
    const res = await send(token, 'POST', '/Groups', JSON.stringify({ schemas: [GROUP], displayName }));
    expect(res.status).toBe(201);
    return { id: ((await res.json()) as { id: string }).id, etag: res.headers.get('etag')! };
  };
  const onePatch = (value: string) => JSON.stringify({ schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value }] }] });

  it(`lets at most the connection's budget of large writes wait (${FITTING} here), refuses the rest with 503, and serves other connections meanwhile`, async () => {
    const group = await createGroup(a.token, 'leased');
    const other = await createGroup(b.token, 'elsewhere');
    const lease = (await t.sso.store.leaseGroup(a.connectionId, group.id))!;
    const statuses: number[] = [];
    const refusals: { body: Record<string, unknown>; retryAfter: string | null }[] = [];
    // All pinned to the group's version: the first to get the lease writes, the others then find it moved (412).
    const burst = Array.from({ length: BURST }, async (_, i) => {
      const res = await send(a.token, 'PATCH', `/Groups/${group.id}`, largePatch(`b${String(i).padStart(2, '0')}`), { 'If-Match': group.etag });
      statuses.push(res.status);
      if (res.status === 503) refusals.push({ body: (await res.json()) as Record<string, unknown>, retryAfter: res.headers.get('retry-after') });
      else await res.arrayBuffer();
    });
    await vi.waitFor(() => expect(statuses.length + leaseWaiters.held(a.connectionId).waiters).toBe(BURST), { timeout: 15_000, interval: 20 });
    expect(leaseWaiters.held(a.connectionId)).toEqual({ waiters: FITTING, bytes: LEASE_WAIT_BYTES_PER_CONNECTION });
    expect(statuses).toEqual(Array(BURST - FITTING).fill(503));
    for (const refusal of refusals) {
      expect(refusal.retryAfter).toBe('1');
      expect(refusal.body).toMatchObject({ schemas: [SCIM_ERROR_SCHEMA], status: '503' });
      expect(refusal.body.detail).toContain(`${FITTING} writes of this connection already wait`);
    }
    // A small write of the full connection, which the store would hold back for the lease, is refused too.
    const small = await send(a.token, 'PATCH', `/Groups/${group.id}`, onePatch('small'));
    expect(small.status).toBe(503);
    expect(small.headers.get('retry-after')).toBe('1');
    // Another connection's large write of another group is served while they wait.
    const elsewhere = await send(b.token, 'PATCH', `/Groups/${other.id}`, largePatch('other'));
    expect(elsewhere.status).toBe(204);
    expect(leaseWaiters.held(b.connectionId)).toEqual({ waiters: 0, bytes: 0 });
    expect(leaseWaiters.held(a.connectionId).waiters).toBe(FITTING);

    await lease.release();
    await Promise.all(burst);
    expect(statuses.filter((status) => status === 503)).toHaveLength(BURST - FITTING);
    expect(statuses.filter((status) => status === 204)).toHaveLength(1);
    expect(statuses.filter((status) => status === 412)).toHaveLength(FITTING - 1);
    expect(leaseWaiters.held()).toEqual({ waiters: 0, bytes: 0 });
    // What is stored is the one write's whole list, nothing of a refused one.
    const stored = (await t.sso.store.getResource(a.connectionId, 'Group', group.id))!;
    expect(stored.members).toHaveLength(VALUES);
    expect(new Set(stored.members!.map((member) => member.value.slice(0, 3))).size).toBe(1);
    expect(((await t.sso.store.getResource(b.connectionId, 'Group', other.id))!.members ?? []).length).toBe(VALUES);
  });

  it('counts a small group write the store holds back for another write’s lease, and gives its count back', async () => {
    const group = await createGroup(a.token, 'held back');
    const lease = (await t.sso.store.leaseGroup(a.connectionId, group.id))!;
    const answer = send(a.token, 'PATCH', `/Groups/${group.id}`, onePatch('late'));
    await vi.waitFor(() => expect(leaseWaiters.held(a.connectionId).waiters).toBe(1), { timeout: 15_000, interval: 20 });
    await lease.release();
    expect((await answer).status).toBe(204);
    expect(leaseWaiters.held()).toEqual({ waiters: 0, bytes: 0 });
    expect((await t.sso.store.getResource(a.connectionId, 'Group', group.id))!.members).toEqual([{ value: 'late' }]);
  });
});

describe('a request body read from its stream', () => {
  it('leaves no listener holding the body on the stream, which lives as long as the request', async () => {
    const stream = new PassThrough();
    const read = readBody(stream, 1_000_000);
    stream.end(Buffer.alloc(100_000, 0x20));
    expect(await read).toHaveLength(100_000);
    expect([stream.listenerCount('data'), stream.listenerCount('end')]).toEqual([0, 0]);
  });
});
