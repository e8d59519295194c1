/**
 * The cost of large member PATCHes (issue 6, bug 4), measured without a clock. A PATCH that adds or removes
 * n members must cost O(n): the first implementation compared every added or removed member with every
 * element of the list (deep equality in a linear scan), so 16,000 members took ~12 s and a 1 MB body blocked
 * the event loop for minutes.
 *
 * The work is counted, not timed: every element inspection of the PATCH code (deep equality, duplicate
 * checks, the list indexes of src/scim/patch-list.ts) goes through `isObject` (src/scim/normalize.ts), so the
 * number of its calls while one PATCH runs is a deterministic measure of that PATCH's work. The same request
 * is sent with 1,000 and 10,000 members: linear work grows about 10×, quadratic work about 100×. Wall-clock
 * durations are printed for information, never asserted.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';

const work = vi.hoisted(() => ({ inspections: 0 }));
vi.mock('../../src/scim/normalize.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/scim/normalize.js')>();
  return {
    ...original,
    isObject: (value: unknown): value is Record<string, unknown> => {
      work.inspections++;
      return original.isObject(value);
    },
  };
});

import { scimSso, type ScimSso } from '../support/sso.js';
import { bodyText } from '../../src/scim/response-body.js';

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
/** Linear work grows 10× from 1,000 to 10,000 members, quadratic work 100×: the bound sits between them. */
const MAX_GROWTH = 20;

describe('hostile input: cost of large PATCH requests', () => {
  let sso: ScimSso;
  let token: string;
  beforeAll(async () => {
    sso = scimSso({ rateLimit: false });
    ({ token } = await sso.createScimConnection({ customerId: 'hostile-cost' }));
  });
  const send = (method: string, path: string, body?: string) =>
    sso.handleScim({
      method,
      path,
      query: new URLSearchParams(),
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
      body: body === undefined ? undefined : Buffer.from(body),
      baseUrl: 'http://hostile.test/scim/v2',
    });
  const members = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => ({ value: `${prefix}${i}` }));
  const memberCount = async (id: string) => (JSON.parse(bodyText((await send('GET', `/Groups/${id}`)).body)!).members ?? []).length as number;

  /** Runs one PATCH and returns its status and the element inspections it made (its wall time is printed). */
  async function measure(label: string, path: string, body: string) {
    const before = work.inspections;
    const started = performance.now();
    const res = await send('PATCH', path, body);
    const inspections = work.inspections - before;
    console.log(`[patch cost] ${label}: ${inspections} element inspections, ${(performance.now() - started).toFixed(0)} ms (not asserted)`);
    return { status: res.status, inspections };
  }

  it('adds 10,000 members in one PATCH with work linear in the members', async () => {
    const cost: number[] = [];
    for (const n of [1_000, 10_000]) {
      // Half of the members are already in the group: every added one is checked against the list.
      const group = JSON.parse(bodyText((await send('POST', '/Groups', JSON.stringify({ displayName: `Big add ${n}`, members: members(n / 2, 'a') }))).body)!);
      const body = JSON.stringify({ schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: members(n, 'a') }] });
      const { status, inspections } = await measure(`add ${n} members`, `/Groups/${group.id}`, body);
      expect(status).toBe(204);
      expect(await memberCount(group.id)).toBe(n); // the duplicates were recognised, the new ones appended
      cost.push(inspections);
    }
    expect(cost[1]!, `inspections for 1,000 then 10,000 members: ${cost.join(', ')}`).toBeLessThanOrEqual(cost[0]! * MAX_GROWTH);
  }, 120_000);

  it('removes 10,000 listed members (Entra style) in one PATCH with work linear in the members', async () => {
    const cost: number[] = [];
    for (const n of [1_000, 10_000]) {
      const list = members(n, 'r');
      const group = JSON.parse(bodyText((await send('POST', '/Groups', JSON.stringify({ displayName: `Big remove ${n}`, members: list }))).body)!);
      const body = JSON.stringify({ schemas: [PATCH_OP], Operations: [{ op: 'Remove', path: 'members', value: list.slice(0, n - 1) }] });
      const { status, inspections } = await measure(`remove ${n - 1} of ${n} members`, `/Groups/${group.id}`, body);
      expect(status).toBe(204);
      expect(await memberCount(group.id)).toBe(1); // only the listed members went
      cost.push(inspections);
    }
    expect(cost[1]!, `inspections for 1,000 then 10,000 members: ${cost.join(', ')}`).toBeLessThanOrEqual(cost[0]! * MAX_GROWTH);
  }, 120_000);
});
