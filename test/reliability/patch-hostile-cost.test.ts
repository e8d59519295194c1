/**
 * Hostile PATCH costs the scan budget (MAX_PATCH_SCAN, src/scim/limits.ts) must cover, measured without a
 * clock (as in patch-cost.test.ts):
 * - values that differ only in case: the PATCH list index (src/scim/patch-list.ts) used to key members by
 *   their folded `value`, so 30,000 case variants of one word shared one bucket that every lookup copied and
 *   sorted and every removal searched (100 value-path operations blocked ~0.6 s, a 5,000-value remove ~20 s);
 * - long strings: the budget counted comparisons, not what they fold, so 100 emails with 4,000-character
 *   non-ASCII `display`s let one PATCH fold for seconds within the budget.
 * The work is counted through two seams: `isObject` (src/scim/normalize.ts), which every element inspection
 * of the PATCH code goes through, and `fold`/`foldCase` (src/fold.ts), whose characters are counted.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

const work = vi.hoisted(() => ({ inspections: 0, folded: 0 }));
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
vi.mock('../../src/fold.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/fold.js')>();
  return {
    ...original,
    fold: (value: string) => {
      work.folded += value.length;
      return original.fold(value);
    },
    foldCase: (value: string) => {
      work.folded += value.length;
      return original.foldCase(value);
    },
  };
});

import { MAX_PATCH_SCAN, PATCH_SCAN_FOLDED_CHARS } from '../../src/scim/limits.js';
import { makeStore, STORE_KINDS, type TestStore } from '../support/app.js';
import { scimRequest, scimSso, type ScimSso } from '../support/sso.js';
import { bodyText } from '../../src/scim/response-body.js';

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';

/** The most characters a PATCH may fold: every unit of the budget spent on folding non-ASCII text. */
const MAX_FOLDED = MAX_PATCH_SCAN * PATCH_SCAN_FOLDED_CHARS;
/**
 * A user PATCH may be applied twice: a refusal computed on the server's recent copy of the user is decided
 * again on the stored user (updateResource, src/scim/resources.ts), each run with a budget of its own.
 */
const RUNS = 2;

/** The i-th case variant of `word` (bit b of i upper-cases letter b). */
const variant = (word: string, i: number) => Array.from(word, (c, b) => ((i >> b) & 1 ? c.toUpperCase() : c)).join('');

interface Sent {
  status: number;
  json: Record<string, any> | undefined;
  inspections: number;
  folded: number;
}

function client(sso: () => ScimSso, token: () => string) {
  return async (method: string, path: string, body?: unknown): Promise<Sent> => {
    const before = { ...work };
    const res = await sso().handleScim(scimRequest(token(), method, path, { body }));
    return {
      status: res.status,
      json: bodyText(res.body) ? (JSON.parse(bodyText(res.body)!) as Record<string, any>) : undefined,
      inspections: work.inspections - before.inspections,
      folded: work.folded - before.folded,
    };
  };
}

describe.each(STORE_KINDS)('PATCH on members whose values differ only in case (%s store)', (kind) => {
  let store: TestStore;
  let sso: ScimSso;
  let token: string;
  const unexpected: unknown[] = [];
  const send = client(
    () => sso,
    () => token,
  );
  beforeAll(async () => {
    store = await makeStore(kind, `patch-hostile-cost-${kind}`);
    sso = scimSso({ store: store.store, rateLimit: false, onError: (error) => unexpected.push(error) });
    ({ token } = await sso.createScimConnection({ customerId: `patch-hostile-cost-${kind}` }));
  });
  afterAll(async () => {
    expect(unexpected).toEqual([]);
    await store.cleanup();
  });

  const N = 4_096; // every case variant of a 12-letter word
  const group = async (displayName: string, values: string[]) => {
    const created = await send('POST', '/Groups', { schemas: [GROUP], displayName });
    expect(created.status).toBe(201);
    const id = created.json!.id as string;
    const added = await send('PATCH', `/Groups/${id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'add', path: 'members', value: values.map((value) => ({ value })) }],
    });
    expect(added.status).toBe(204);
    return id;
  };
  const members = async (id: string) => ((await send('GET', `/Groups/${id}`)).json!.members ?? []) as { value: string; display?: string }[];

  /**
   * 100 `replace members[value eq "…"].display` (which need the member list: the general PATCH path) and one
   * Entra-style remove of 1,000 listed values, on `values`; `renamed` and `removed` are indices into it.
   */
  const renamed = Array.from({ length: 100 }, (_, j) => 37 * j + 5);
  const removed = Array.from({ length: 1_000 }, (_, j) => 4 * j + 2).filter((i) => !renamed.includes(i));
  const operations = (values: string[]) => [
    ...renamed.map((i, j) => ({ op: 'replace', path: `members[value eq "${values[i]}"].display`, value: `renamed ${j}` })),
    { op: 'remove', path: 'members', value: removed.map((i) => ({ value: values[i] })) },
  ];

  it('changes and removes exactly the members named, in order, with no more work than for distinct values', async () => {
    const variants = Array.from({ length: N }, (_, i) => variant('abcdefghijkl', i));
    const distinct = Array.from({ length: N }, (_, i) => `member-${String(i).padStart(6, '0')}`);
    expect(new Set(variants.map((v) => v.toLowerCase())).size).toBe(1);
    const variantGroup = await group('case variants', variants);
    const distinctGroup = await group('distinct values', distinct);

    const cost: Record<string, number> = {};
    for (const [label, id, values] of [
      ['variants', variantGroup, variants],
      ['distinct', distinctGroup, distinct],
    ] as const) {
      const res = await send('PATCH', `/Groups/${id}`, { schemas: [PATCH_OP], Operations: operations(values) });
      expect(res.status, JSON.stringify(res.json)).toBe(204);
      cost[label] = res.inspections;
      const gone = new Set(removed);
      const expected = values.flatMap((value, i) => {
        if (gone.has(i)) return [];
        const j = renamed.indexOf(i);
        return [j < 0 ? { value } : { value, display: `renamed ${j}` }];
      });
      expect((await members(id)).map((m) => (m.display === undefined ? { value: m.value } : { value: m.value, display: m.display }))).toEqual(expected);
    }
    // Before the fix the variants cost N candidates per lookup: about 100 × 4,096 + 1,000 × 4,096 more inspections.
    console.log(`[patch hostile cost] ${kind}: ${cost.variants} inspections with case variants, ${cost.distinct} with distinct values (not timed)`);
    expect(cost.variants!).toBeLessThanOrEqual(cost.distinct! * 1.2 + 1_000);
  }, 120_000);

  it('removes a member by value eq exactly (caseExact), leaving its case variants', async () => {
    const values = Array.from({ length: 64 }, (_, i) => variant('abcdef', i));
    const id = await group('exact removal', values);
    const res = await send('PATCH', `/Groups/${id}`, {
      schemas: [PATCH_OP],
      Operations: [
        { op: 'remove', path: `members[value eq "${values[9]}"]` },
        { op: 'replace', path: `members[value eq "${values[10]}"].display`, value: 'ten' },
        { op: 'remove', path: `members[value eq "${values[11]}"]` },
      ],
    });
    expect(res.status).toBe(204);
    const after = await members(id);
    expect(after.map((m) => m.value)).toEqual(values.filter((_, i) => i !== 9 && i !== 11));
    expect(after.filter((m) => m.display !== undefined)).toEqual([expect.objectContaining({ value: values[10], display: 'ten' })]);
  });
});

describe('PATCH work on long strings and case-insensitive buckets', () => {
  let sso: ScimSso;
  let token: string;
  const unexpected: unknown[] = [];
  const send = client(
    () => sso,
    () => token,
  );
  beforeAll(async () => {
    sso = scimSso({ rateLimit: false, onError: (error) => unexpected.push(error) });
    ({ token } = await sso.createScimConnection({ customerId: 'patch-hostile-strings' }));
  });
  afterAll(() => {
    expect(unexpected).toEqual([]);
  });

  const user = async (userName: string, attributes: Record<string, unknown>) => {
    const created = await send('POST', '/Users', { schemas: [USER], userName, ...attributes });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    return created.json!.id as string;
  };
  const patch = (id: string, Operations: unknown[]) => send('PATCH', `/Users/${id}`, { schemas: [PATCH_OP], Operations });
  const tooMany = (res: Sent, index: number) => {
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ scimType: 'tooMany', detail: expect.stringMatching(new RegExp(`^Operations\\[${index}\\]: `)) });
  };

  it('refuses a value filter over 100 emails with 4,000-character non-ASCII displays before folding them', async () => {
    const long = 'é'.repeat(4_000);
    const id = await user('long-displays', {
      emails: Array.from({ length: 100 }, (_, i) => ({ value: `m${i}@example.com`, display: `${i}${long}`, type: 'work' })),
    });
    const before = (await send('GET', `/Users/${id}`)).json;
    for (const n of [1, 100]) {
      const res = await patch(
        id,
        Array.from({ length: n }, (_, i) => ({ op: 'remove', path: `emails[display co "zz${i}"].type` })),
      );
      tooMany(res, 0);
      // Before: 100 × 4,001 characters folded per operation (40 million for 100 operations), for a 204.
      expect(res.folded).toBeLessThan(1_000);
    }
    expect((await send('GET', `/Users/${id}`)).json).toEqual(before);
  });

  it('bounds the characters one PATCH folds by the budget, whatever its operations, and applies those within it', async () => {
    const text = 'é'.repeat(150);
    const id = await user('medium-displays', {
      emails: Array.from({ length: 100 }, (_, i) => ({ value: `n${i}@example.com`, display: `${i}:${text}`, type: 'work' })),
    });
    const within = await patch(id, [
      { op: 'remove', path: 'emails[display sw "42:"].type' },
      { op: 'remove', path: 'emails[display co "zz"].type' },
    ]);
    expect(within.status, JSON.stringify(within.json)).toBe(204);
    expect(within.folded).toBeGreaterThan(2 * 100 * 150); // the displays were compared (folded) ...
    expect(within.folded).toBeLessThanOrEqual(MAX_FOLDED); // ... within the budget
    const emails = (await send('GET', `/Users/${id}`)).json!.emails as { value: string; type?: string }[];
    expect(emails.map((e) => e.value)).toEqual(Array.from({ length: 100 }, (_, i) => `n${i}@example.com`));
    expect(emails.filter((e) => e.type === undefined).map((e) => e.value)).toEqual(['n42@example.com']);

    // 100 operations would fold 100 × 100 × 152 characters (1.5 million): refused once the budget is spent.
    const over = await patch(
      id,
      Array.from({ length: 100 }, (_, i) => ({ op: 'remove', path: `emails[display co "zz${i}"].type` })),
    );
    expect(over.status).toBe(400);
    expect(over.json).toMatchObject({ scimType: 'tooMany' });
    expect(over.folded).toBeLessThanOrEqual(RUNS * MAX_FOLDED);
  });

  it('charges the keys of duplicate checks (equal values fold their long strings), and refuses before folding past the budget', async () => {
    const long = 'Σ'.repeat(3_000);
    const id = await user('keyed-displays', {
      emails: Array.from({ length: 99 }, (_, i) => ({ value: `k${i}@example.com`, display: `${i}${long}`, type: 'work' })),
    });
    const before = (await send('GET', `/Users/${id}`)).json;
    // An add compares whole values (RFC 7644 §3.5.2.1), and each value-path change re-keys what it changes.
    const res = await patch(id, [
      { op: 'add', path: 'emails', value: [{ value: 'new@example.com' }] },
      ...Array.from({ length: 190 }, () => ({ op: 'replace', path: 'emails[type eq "work"].primary', value: false })),
    ]);
    tooMany(res, 0);
    // Before: 99 × 3,001 characters folded to key the list, then twice per re-keyed value, for a 204 (about 2 s).
    expect(res.folded).toBeLessThan(1_000);
    expect((await send('GET', `/Users/${id}`)).json).toEqual(before);

    const short = await user('keyed-short', { emails: [{ value: 'a@example.com', display: 'A', type: 'work' }] });
    const added = await patch(short, [
      { op: 'add', path: 'emails', value: [{ value: 'A@EXAMPLE.com', display: 'a', type: 'Work' }, { value: 'b@example.com' }] },
      ...Array.from({ length: 190 }, () => ({ op: 'replace', path: 'emails[type eq "work"].primary', value: false })),
    ]);
    expect(added.status, JSON.stringify(added.json)).toBe(204);
    expect(((await send('GET', `/Users/${short}`)).json!.emails as { value: string }[]).map((e) => e.value)).toEqual(['a@example.com', 'b@example.com']);
  });

  it('refuses a value filter over 1,000 long non-ASCII strings of an unknown attribute, and filters short ones', async () => {
    const id = await user('long-tags', { tags: Array.from({ length: 1_000 }, (_, i) => `${i}`.padEnd(400, 'ü')) });
    const res = await patch(
      id,
      Array.from({ length: 20 }, (_, i) => ({ op: 'remove', path: `tags[value co "zz${i}"]` })),
    );
    tooMany(res, 0);
    expect(res.folded).toBeLessThan(1_000);

    const short = await user('short-tags', { tags: ['Red', 'green', 'BLUE', 'réd'] });
    const removed = await patch(short, [{ op: 'remove', path: 'tags[value eq "red"]' }]);
    expect(removed.status).toBe(204);
    expect((await send('GET', `/Users/${short}`)).json!.tags).toEqual(['green', 'BLUE', 'réd']);
  });

  it('matches every case variant of a case-insensitive value, in order, and charges the variants to the budget', async () => {
    // emails.value is caseExact=false: `emails[value eq "…"]` matches all 100 variants of one address.
    const values = Array.from({ length: 100 }, (_, i) => `${variant('abcdefg', i)}@example.com`);
    const id = await user('email-variants', { emails: values.map((value) => ({ value, type: 'work' })) });
    const one = await patch(id, [{ op: 'replace', path: 'emails[value eq "ABCDEFG@EXAMPLE.COM"].display', value: 'same' }]);
    expect(one.status).toBe(204);
    const emails = (await send('GET', `/Users/${id}`)).json!.emails as { value: string; display?: string }[];
    expect(emails.map((e) => [e.value, e.display])).toEqual(values.map((value) => [value, 'same']));

    // 300 operations each touching the 100 variants: 30,000 element comparisons, over the budget. Each
    // operation is charged at least the 99 candidates past the first, so it is refused by that count.
    const res = await patch(
      id,
      Array.from({ length: 300 }, (_, i) => ({ op: 'replace', path: 'emails[value eq "abcdefg@example.com"].display', value: `d${i}` })),
    );
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ scimType: 'tooMany' });
    const refused = Number(/^Operations\[(\d+)\]/.exec(res.json!.detail as string)?.[1]);
    expect(refused).toBeLessThanOrEqual(Math.ceil(MAX_PATCH_SCAN / 99));
    expect(((await send('GET', `/Users/${id}`)).json!.emails as { display?: string }[]).every((e) => e.display === 'same')).toBe(true);
  });
});
