/**
 * A PATCH's operations each carry objects of at most MAX_BODY_OBJECT_KEYS keys (the body's shape check), but
 * many operations could add up to one object of 70,000 keys in the working copy, which every later step
 * (the schemas list, normalisation, the resource limits) then walked: 800 path-less adds of 90 keys held the
 * event loop for about 270 ms, and 100 adds of 90 custom URNs for 1.6 s (schemas were synced in quadratic
 * time). Each operation is now refused as soon as it makes an object it wrote into wider than a body's may be
 * (src/scim/patch.ts, widthProblem). Measured without a clock: the operation refused is the first that
 * crosses the bound, and normalisation (the seam, src/scim/normalize.ts) never sees a wider object.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

const seen = vi.hoisted(() => ({ widest: 0 }));
vi.mock('../../src/scim/normalize.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/scim/normalize.js')>();
  return {
    ...original,
    normalizeResource: (...args: Parameters<typeof original.normalizeResource>) => {
      const [, input] = args;
      if (typeof input === 'object' && input !== null) seen.widest = Math.max(seen.widest, Object.keys(input).length);
      return original.normalizeResource(...args);
    },
  };
});

import { MAX_BODY_OBJECT_KEYS } from '../../src/scim/limits.js';
import { makeStore, STORE_KINDS, type TestStore } from '../support/app.js';
import { scimRequest, scimSso, type ScimSso } from '../support/sso.js';
import { bodyText } from '../../src/scim/response-body.js';

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
/** Keys each operation adds. */
const K = 90;

const keys = (i: number, prefix: string) => Object.fromEntries(Array.from({ length: K }, (_, j) => [`${prefix}${i * K + j}`, 1]));

describe.each(STORE_KINDS)('PATCH operations that widen one object of the resource (%s store)', (kind) => {
  let store: TestStore;
  let sso: ScimSso;
  let token: string;
  const unexpected: unknown[] = [];
  beforeAll(async () => {
    store = await makeStore(kind, `patch-width-${kind}`);
    sso = scimSso({ store: store.store, rateLimit: false, onError: (error) => unexpected.push(error) });
    ({ token } = await sso.createScimConnection({ customerId: `patch-width-${kind}` }));
  });
  afterAll(async () => {
    expect(unexpected).toEqual([]);
    await store.cleanup();
  });

  const send = async (method: string, path: string, body?: unknown) => {
    const res = await sso.handleScim(scimRequest(token, method, path, { body }));
    return { status: res.status, json: bodyText(res.body) ? (JSON.parse(bodyText(res.body)!) as Record<string, any>) : undefined };
  };

  // Each case: the operation that widens, the object it widens and how many keys that object has before.
  const cases: { name: string; operation: (i: number) => unknown; startKeys: (user: Record<string, any>) => number }[] = [
    {
      name: 'path-less adds of plain attributes (the resource)',
      operation: (i) => ({ op: 'add', value: keys(i, 'k') }),
      startKeys: (u) => Object.keys(u).length,
    },
    {
      name: 'path-less adds of custom extension URNs (the resource, and its schemas)',
      operation: (i) => ({ op: 'add', value: Object.fromEntries(Object.keys(keys(i, '')).map((n) => [`urn:example:ext${n}:attr`, 1])) }),
      startKeys: (u) => Object.keys(u).length,
    },
    { name: 'adds into the enterprise extension', operation: (i) => ({ op: 'add', value: { [ENTERPRISE]: keys(i, 'e') } }), startKeys: () => 0 },
    { name: 'merges into a complex attribute', operation: (i) => ({ op: 'add', value: { wide: keys(i, 'c') } }), startKeys: (u) => Object.keys(u.wide).length },
    {
      name: 'merges into a value a filter selects',
      operation: (i) => ({ op: 'add', path: 'list[a eq 1]', value: keys(i, 'f') }),
      startKeys: (u) => Object.keys(u.list[0]).length,
    },
  ];

  it.each(cases)('refuses $name at the first operation past the bound, and changes nothing', async ({ operation, startKeys }) => {
    const created = await send('POST', '/Users', { schemas: [USER], userName: `width-${Math.random()}`, wide: { c: 1 }, list: [{ a: 1 }] });
    expect(created.status).toBe(201);
    const id = created.json!.id as string;
    const stored = store.store.getResource(await connectionIdOf(), 'User', id);
    const start = startKeys(JSON.parse((await stored)!.json) as Record<string, any>);
    seen.widest = 0;
    const res = await send('PATCH', `/Users/${id}`, { schemas: [PATCH_OP], Operations: Array.from({ length: 800 }, (_, i) => operation(i)) });
    expect(res.status).toBe(400);
    expect(res.json!.scimType).toBe('invalidValue');
    // The first operation after which the object holds more than MAX_BODY_OBJECT_KEYS keys.
    const first = Math.ceil((MAX_BODY_OBJECT_KEYS + 1 - start) / K) - 1;
    expect(res.json!.detail).toBe(
      `Operations[${first}]: the patched resource would hold an object with ${start + (first + 1) * K} keys; at most ${MAX_BODY_OBJECT_KEYS} are accepted`,
    );
    expect(seen.widest).toBeLessThanOrEqual(MAX_BODY_OBJECT_KEYS);
    expect((await store.store.getResource(await connectionIdOf(), 'User', id))!.json).toBe((await stored)!.json);
  });

  it('still applies many operations that rewrite the same attributes', async () => {
    const created = await send('POST', '/Users', { schemas: [USER], userName: `rewrite-${Math.random()}` });
    const id = created.json!.id as string;
    const operations = Array.from({ length: 1000 }, (_, i) => ({ op: 'replace', value: { nickName: `n${i}`, active: i % 2 === 0 } }));
    expect((await send('PATCH', `/Users/${id}`, { schemas: [PATCH_OP], Operations: operations })).status).toBe(204);
    expect((await send('GET', `/Users/${id}`)).json).toMatchObject({ nickName: 'n999', active: false });
  });

  async function connectionIdOf(): Promise<string> {
    return (await store.store.getConnectionByCustomer(`patch-width-${kind}`))!.connectionId;
  }
});
