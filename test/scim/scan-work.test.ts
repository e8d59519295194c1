/**
 * Scans are measured in work, not resources (src/scim/scan-work.ts, src/scim/list.ts): a slice between two
 * yields does bounded work however many values a resource holds, each stored string is folded once per
 * resource however many comparisons read it, and work past the request's budget, or past one resource's,
 * is a 400 `tooMany` naming the indexed filters, refused as soon as it passes the budget. Also: the fast
 * folding of long non-ASCII strings (src/fold.ts) gives exactly what folding one character at a time gives.
 * Work is asserted as counts (slices, folds, units), never as timings.
 */
import fc from 'fast-check';
import { nextScanBatch } from '../../src/scim/list.js';
import { MAX_PAGE_BYTES } from '../../src/scim/list-refusals.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fold, foldCase, SINGLETON_RANGES } from '../../src/fold.js';
import { parseFilter, type FilterNode } from '../../src/scim/filter.js';
import { matchesFilter } from '../../src/scim/filter-eval.js';
import { LIST_YIELD_EVERY, SCAN_RESOURCE_WORK, SCAN_SLICE_WORK, SCAN_WORK_PER_RESOURCE } from '../../src/scim/limits.js';
import type { JsonObject } from '../../src/scim/normalize.js';
import { scanWorkStats, WorkBudgetExceeded, WorkMeter } from '../../src/scim/scan-work.js';
import { RESOURCE_TYPES } from '../../src/scim/schemas.js';
import { ROWS_PER_SCRIPT } from '../../src/store/read-budgets.js';
import { STORE_KINDS, scimTestApp, type ScimTestApp } from '../support/app.js';
import { scimRequest, scimSso } from '../support/sso.js';
import { aroundStoreCalls } from '../support/store-calls.js';
import { bodyText } from '../../src/scim/response-body.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const scope = { type: RESOURCE_TYPES.User };

function filterOf(text: string): FilterNode {
  const parsed = parseFilter(text);
  if (!parsed.ok) throw new Error(`bad filter ${text}`);
  return parsed.value;
}
const anyOf = (count: number, term: (i: number) => string) => Array.from({ length: count }, (_, i) => term(i)).join(' or ');

/** The folding rule as src/fold.ts wrote it before it was made fast: one character at a time. */
const reference = (() => {
  const SINGLETONS = new Set<string>();
  // The ranges are data (Unicode's); the rule that uses them is what this reference restates.
  for (const [from, to] of SINGLETON_RANGES) {
    for (let cp = from; cp <= to; cp++) {
      const ch = String.fromCodePoint(cp);
      const decomposed = ch.normalize('NFD');
      if (decomposed !== ch && [...decomposed].length === 1) SINGLETONS.add(ch);
    }
  }
  const isProtected = (ch: string) => SINGLETONS.has(ch) || /[\p{Cf}\p{White_Space}]/u.test(ch);
  const hasAscii = (s: string) => [...s].some((c) => c.charCodeAt(0) <= 0x7f);
  const lowerRun = (run: string) => {
    let out = '';
    for (const ch of run.normalize('NFC')) {
      if (ch.length === 1 && ch.charCodeAt(0) < 0x80) out += ch.toLowerCase();
      else out += hasAscii(ch.toLowerCase()) ? ch : ch.toLowerCase();
    }
    return out;
  };
  const foldCaseRef = (value: string) => {
    let out = '';
    let run = '';
    for (const ch of value) {
      if (isProtected(ch)) {
        out += lowerRun(run) + ch;
        run = '';
      } else run += ch;
    }
    return out + lowerRun(run);
  };
  return { foldCase: foldCaseRef, fold: (value: string) => foldCaseRef(value.replace(/^[\t\n\v\f\r ]+|[\t\n\v\f\r ]+$/g, '')) };
})();

describe('folding long strings fast (src/fold.ts)', () => {
  it('gives exactly what folding one character at a time gives, on every code point alone and between neighbours', () => {
    const differ: string[] = [];
    for (let cp = 0x80; cp <= 0x10ffff; cp++) {
      const ch = String.fromCodePoint(cp);
      for (const value of [ch, `\u03a3${ch}\u00a0e\u0301 `]) {
        if (foldCase(value) !== reference.foldCase(value)) differ.push(cp.toString(16));
      }
    }
    expect(differ).toEqual([]);
  });

  it('gives exactly the same on random mixes of the characters the rule treats apart', () => {
    const tricky = [
      ...'aZ \t\n\u00a0\u200d\ufeff\u2000\u3000\u00e9\u00c9\u0301\u0308\u0307\u0327\u0130I\u03a3\u03c3\u03c2\u212a\u2126\u212b\u037e\u00df\u1e9e\u0416\uac00\u1100\u1161\u11a8\uf900\ud800\udc00',
      '\u{2f800}',
      '\u{10400}',
      '\u{e0041}',
    ];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...tricky), { maxLength: 24 }), (chars) => {
        const value = chars.join('');
        expect(foldCase(value)).toBe(reference.foldCase(value));
        expect(fold(value)).toBe(reference.fold(value));
      }),
      { numRuns: 3_000 },
    );
  });

  it('folds long values of protected, special and decomposed characters the same, and trims long inner spaces linearly', () => {
    for (const unit of ['\u00e9', '\u0416', '\u00e9\u00a0', 'e\u0301\u00a0', '\u0416\u2126', '\u0130\u03a3', '\u00e9\u03a3', '\u{2f800}a']) {
      const value = `  ${unit.repeat(5_000)}  `;
      expect(fold(value), JSON.stringify(unit)).toBe(reference.fold(value));
    }
    const spaced = `x${' '.repeat(200_000)}x`; // the old trim's regular expression took seconds on this
    expect(fold(spaced)).toBe(spaced);
  });
});

describe('a work meter (src/scim/scan-work.ts)', () => {
  const user: JsonObject = {
    schemas: [USER],
    userName: 'meter@corp.test',
    note: `${'\u00c9'.repeat(5_000)}Z`,
    tags: Array.from({ length: 1_000 }, (_, i) => `Tag-${i}`),
    emails: [{ value: 'Meter@Corp.test', type: 'work' }],
  };

  it('evaluates every filter exactly as without a meter', () => {
    const terms = [
      'note co "\u00e9z"',
      'note sw "\u00e9\u00e9"',
      'note ew "Z"',
      'note eq "x"',
      'note gt "\u00e9"',
      'tags eq "tag-999"',
      'tags co "G-5"',
      'tags[value sw "tag-1"]',
      'emails co "corp"',
      'emails[type eq "work" and value ew ".TEST"]',
      'emails.value eq "meter@corp.test"',
      'userName ne "x"',
      'title eq null',
      'tags pr',
      'nickName pr',
      'tags lt "a"',
    ];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...terms), { minLength: 1, maxLength: 6 }), fc.boolean(), (picked, and) => {
        const node = filterOf(picked.join(and ? ' and ' : ' or '));
        expect(matchesFilter(node, user, scope, new WorkMeter(Infinity, Infinity))).toBe(matchesFilter(node, user, scope));
      }),
      { numRuns: 300 },
    );
  });

  it('folds a long stored string once per resource, however many comparisons read it', () => {
    const before = scanWorkStats.folds;
    const meter = new WorkMeter(Infinity);
    expect(matchesFilter(filterOf(anyOf(50, (i) => `note co "q${i}"`)), user, scope, meter)).toBe(false);
    expect(scanWorkStats.folds - before).toBe(1);
    // Each comparison is charged what it reads: 50 searches through 5,001 characters.
    expect(meter.total).toBeGreaterThan(50 * Math.floor(5_001 / 32));
  });

  it('charges each value each comparison reads', () => {
    const meter = new WorkMeter(Infinity);
    expect(matchesFilter(filterOf(anyOf(10, (i) => `tags eq "none${i}"`)), user, scope, meter)).toBe(false);
    expect(meter.total).toBeGreaterThanOrEqual(10 * 1_000);
  });

  it('stops as soon as the work passes the budget of the request or of one resource', () => {
    const node = filterOf(anyOf(100, (i) => `tags eq "none${i}"`));
    const small = new WorkMeter(5_000);
    expect(() => matchesFilter(node, user, scope, small)).toThrow(WorkBudgetExceeded);
    expect(small.total).toBeLessThanOrEqual(5_000 + 200);
    const perResource = new WorkMeter(Infinity, 3_000);
    let thrown: unknown;
    try {
      matchesFilter(node, user, scope, perResource);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(WorkBudgetExceeded);
    expect(thrown).toMatchObject({ scope: 'resource', limit: 3_000 });
    expect(perResource.total).toBeLessThanOrEqual(3_000 + 200);
  });
});

describe.each(STORE_KINDS)('scans measured in work on the %s store', (kind) => {
  let t: ScimTestApp;
  let small: ScimTestApp;
  const USERS = 30;
  const TAGS = 1_000;
  const SMALL_SCAN = 40; // maxScanResources of `small`: SMALL_SCAN × SCAN_WORK_PER_RESOURCE units

  beforeAll(async () => {
    t = await scimTestApp(kind, `scan-work-${kind}`, { rateLimit: false });
    small = await scimTestApp(kind, `scan-work-small-${kind}`, { rateLimit: false, maxScanResources: SMALL_SCAN });
    for (let u = 0; u < USERS; u++) {
      const res = await t.http
        .post('/scim/v2/Users')
        .set(t.auth)
        .send({ schemas: [USER], userName: `worker${u}@corp.test`, tags: Array.from({ length: TAGS }, (_, i) => `tag-${i}-user-${u}`) });
      expect(res.status).toBe(201);
    }
    for (let u = 0; u < 5; u++) {
      const res = await small.http
        .post('/scim/v2/Users')
        .set(small.auth)
        .send({ schemas: [USER], userName: `small${u}@corp.test`, tags: Array.from({ length: 100 }, (_, i) => `t${i}-u${u}`) });
      expect(res.status).toBe(201);
    }
  }, 60_000);
  afterAll(async () => {
    expect(t.unexpected).toEqual([]);
    expect(small.unexpected).toEqual([]);
    await t.cleanup();
    await small.cleanup();
  });

  const list = (app: ScimTestApp, query: Record<string, string>) => app.http.get('/scim/v2/Users').query(query).set(app.auth);

  it('yields after a slice of work, far more often than every LIST_YIELD_EVERY resources, and finds the right users', async () => {
    const before = scanWorkStats.slices;
    const res = await list(t, { filter: 'tags co "-999-user-2" or tags co "none1" or tags co "none2"' });
    const slices = scanWorkStats.slices - before;
    expect([res.status, res.body.totalResults]).toEqual([200, 11]); // user 2 and users 20 to 29
    expect(res.body.Resources.map((r: { userName: string }) => r.userName).sort()).toEqual(
      ['worker2@corp.test', ...Array.from({ length: 10 }, (_, i) => `worker2${i}@corp.test`)].sort(),
    );
    // 30 resources (< LIST_YIELD_EVERY, which alone would never yield) of 1,000 values each: 1 unit a value
    // compared, so at least 19 × 3,000 + 11 × 1,000 units, a yield before each resource starting a new slice.
    expect(USERS).toBeLessThan(LIST_YIELD_EVERY);
    expect(slices).toBeGreaterThanOrEqual(Math.floor((19 * 3 * TAGS + 11 * TAGS) / SCAN_SLICE_WORK));
    expect(slices).toBeGreaterThanOrEqual(3);

    const exact = await list(t, { filter: 'tags eq "TAG-7-user-13"' });
    expect([exact.status, exact.body.totalResults, exact.body.Resources[0]?.userName]).toEqual([200, 1, 'worker13@corp.test']);
  });

  it('refuses with 400 tooMany, naming the indexed filters, a filter whose work on one resource passes its budget', async () => {
    // 1,000 values of 70 characters: a search through one costs 1 + 70/32 units.
    const wide = Array.from({ length: TAGS }, (_, i) => `${'w'.repeat(64)}-${String(i).padStart(5, '0')}`);
    expect(
      (
        await t.http
          .post('/scim/v2/Users')
          .set(t.auth)
          .send({ schemas: [USER], userName: 'wide@corp.test', wide })
      ).status,
    ).toBe(201);
    const under = await list(t, { filter: `userName eq "wide@corp.test" and (${anyOf(10, (i) => `wide co "none${i}"`)} or wide ew "-00999")` });
    expect([under.status, under.body.totalResults]).toEqual([200, 1]);

    expect(60 * TAGS * 3).toBeGreaterThan(SCAN_RESOURCE_WORK);
    const before = scanWorkStats.folds;
    const res = await list(t, { filter: anyOf(60, (i) => `wide co "none${i}"`), count: '1' });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ status: '400', scimType: 'tooMany' });
    expect(res.body.detail).toMatch(/more work on one User resource than this server's limit/);
    expect(res.body.detail).toMatch(/"eq" on id, username/);
    // Refused at that resource, as soon as its work passed the budget: each value folded once.
    expect(scanWorkStats.folds - before).toBeLessThanOrEqual(TAGS);
    // Through an index lookup too (the candidates are evaluated with the same meter), and by .search.
    const indexed = await list(t, { filter: `userName eq "wide@corp.test" and (${anyOf(60, (i) => `wide co "none${i}"`)})` });
    expect([indexed.status, indexed.body.scimType]).toEqual([400, 'tooMany']);
    const searched = await t.http
      .post('/scim/v2/Users/.search')
      .set(t.auth)
      .send({ filter: anyOf(60, (i) => `wide co "none${i}"`) });
    expect([searched.status, searched.body.scimType]).toEqual([400, 'tooMany']);
  });

  it('answers a filter under the request budget, and refuses one over it as soon as its work passes it', async () => {
    const budget = SMALL_SCAN * SCAN_WORK_PER_RESOURCE;
    const one = await list(small, { filter: 'tags eq "T7-U3"' });
    expect([one.status, one.body.totalResults, one.body.Resources[0]?.userName]).toEqual([200, 1, 'small3@corp.test']);

    const before = scanWorkStats.folds;
    const res = await list(small, { filter: anyOf(10, (i) => `tags eq "t${i}-u9"`) }); // 5 × 100 × 10 values: 5,000 units
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ status: '400', scimType: 'tooMany' });
    expect(res.body.detail).toMatch(new RegExp(`more work scanning the connection's User resources than this server's limit of ${budget} units`));
    expect(res.body.detail).toMatch(/filter with "eq" on id, username.*in every branch of an "or"/);
    // Stopped once past the budget, not after evaluating all 5,000 comparisons.
    expect(scanWorkStats.folds - before).toBeLessThanOrEqual(budget);
  });

  it("reads a scan's and a client's store pages by the bytes they hold, and keeps a client's page whole", async () => {
    const rowBytes: number[] = [];
    const watched = scimSso({
      store: aroundStoreCalls(t.sso.store, (method, call, args) => {
        if (method === 'listPage') rowBytes.push((args[4] as { rowBytes?: number } | undefined)?.rowBytes ?? 0);
        return call();
      }),
      rateLimit: false,
    });
    const { token } = await watched.createScimConnection({ customerId: `scan-bytes-${kind}` });
    const send = async (method: string, query: string, body?: unknown) => {
      const response = await watched.handleScim(scimRequest(token, method, '/Users', { query, body }));
      return JSON.parse(bodyText(response.body)!) as { totalResults: number; itemsPerPage: number; Resources: { userName: string }[] };
    };
    for (let i = 0; i < 3; i++) await send('POST', '', { schemas: [USER], userName: `bulky${i}@corp.test`, note: 'n'.repeat(400_000) });
    const page = await send('GET', 'count=10');
    // Read from the store as two of these users (a first read of 512 KB tells what the rest weighs), then
    // the third, and answered whole (Okta steps by count).
    expect([page.totalResults, page.itemsPerPage]).toEqual([3, 3]);
    expect(rowBytes).toEqual([512 * 1024, 1_000_000]);
    rowBytes.length = 0;
    const scanned = await send('GET', `filter=${encodeURIComponent('note sw "n"')}&count=10`);
    expect(scanned.Resources.map((u) => u.userName)).toEqual(['bulky0@corp.test', 'bulky1@corp.test', 'bulky2@corp.test']);
    // 512 KB of rows first, then 1 MB per store page: two of these users, then the third.
    expect(rowBytes).toEqual([512 * 1024, 1_000_000]);
  });

  it('refuses a client page whose rows pass MAX_PAGE_BYTES, read or sorted, and answers a smaller count whole', async () => {
    const { token } = await t.sso.createScimConnection({ customerId: `page-bytes-${kind}` });
    const send = async (method: string, query: string, body?: unknown) => {
      const response = await t.sso.handleScim(scimRequest(token, method, '/Users', { query, body }));
      return { status: response.status, body: JSON.parse(bodyText(response.body)!) as { scimType?: string; detail?: string; itemsPerPage?: number } };
    };
    // A first sortBy on the empty connection switches its sort indexes on: the users below are indexed as
    // they are written, so `sortBy` pages come from listSorted (no backlog indexed in the background).
    expect((await send('GET', 'sortBy=userName')).status).toBe(200);
    const heavy = Math.ceil(MAX_PAGE_BYTES / 400_000) + 1;
    for (let i = 0; i < heavy; i++)
      expect((await send('POST', '', { schemas: [USER], userName: `heavy${i}@corp.test`, note: 'n'.repeat(400_000) })).status).toBe(201);
    for (const query of [`count=${heavy}`, `count=${heavy}&sortBy=userName`, `count=${heavy}&filter=${encodeURIComponent('note sw "n"')}`]) {
      const refused = await send('GET', query);
      expect([refused.status, refused.body.scimType], query).toEqual([400, 'tooMany']);
      expect(refused.body.detail).toMatch(new RegExp(`hold more than ${MAX_PAGE_BYTES / 1024 / 1024} MB; ask for a smaller count$`));
    }
    const smaller = await send('GET', 'count=10&sortBy=userName');
    expect([smaller.status, smaller.body.itemsPerPage]).toEqual([200, 10]);
    await t.sso.deleteScimConnection(`page-bytes-${kind}`);
  });

  it("counts users' derived groups in a page's bytes: users in many long-named groups are a page refused past MAX_PAGE_BYTES", async () => {
    const { token } = await t.sso.createScimConnection({ customerId: `page-groups-${kind}` });
    const send = async (method: string, path: string, query = '', body?: unknown) => {
      const response = await t.sso.handleScim(scimRequest(token, method, path, { query, body }));
      return { status: response.status, body: JSON.parse(bodyText(response.body) ?? '{}') as { id?: string; scimType?: string; itemsPerPage?: number } };
    };
    // 10 users, each in 800 groups of 1,024-character names: 0.9 MB of groups each, JSON of 100 bytes.
    const users: { value: string }[] = [];
    for (let i = 0; i < 10; i++) users.push({ value: (await send('POST', '/Users', '', { schemas: [USER], userName: `member${i}@corp.test` })).body.id! });
    for (let g = 0; g < 800; g++) {
      const created = await send('POST', '/Groups', '', { schemas: [GROUP], displayName: `${String(g).padStart(4, '0')}${'g'.repeat(1_020)}`, members: users });
      expect(created.status).toBe(201);
    }
    const refused = await send('GET', '/Users', 'count=10');
    expect([refused.status, refused.body.scimType]).toEqual([400, 'tooMany']);
    const smaller = await send('GET', '/Users', 'count=5');
    expect([smaller.status, smaller.body.itemsPerPage]).toEqual([200, 5]);
    // Without their groups the same users are a small page.
    expect((await send('GET', '/Users', 'count=10&excludedAttributes=groups')).body.itemsPerPage).toBe(10);
    await t.sso.deleteScimConnection(`page-groups-${kind}`);
  }, 120_000);

  it('folds a long stored string once per request, and refuses comparisons that would read it too often', async () => {
    const note = '\u00e9'.repeat(200_000); // 400 KB of UTF-8
    const created = await t.http
      .post('/scim/v2/Users')
      .set(t.auth)
      .send({ schemas: [USER], userName: 'long@corp.test', note });
    expect(created.status).toBe(201);
    const before = scanWorkStats.folds;
    const few = await list(t, { filter: `userName eq "long@corp.test" and (${anyOf(5, (i) => `note co "z${i}"`)} or note sw "\u00c9\u00c9")` });
    expect([few.status, few.body.totalResults]).toEqual([200, 1]);
    expect(scanWorkStats.folds - before).toBe(2); // the note once for 6 comparisons, and the userName
    // 40 searches through 200,000 characters each: over one resource's budget.
    const many = await list(t, { filter: `userName eq "long@corp.test" and (${anyOf(40, (i) => `note co "z${i}"`)})` });
    expect([many.status, many.body.scimType]).toEqual([400, 'tooMany']);
  });
});

describe('scan pages sized by the bytes they hold', () => {
  it('reads a first page of 100, then pages of about 1 MB of JSON, never more than ROWS_PER_SCRIPT', () => {
    expect(nextScanBatch(100, 100 * 1_000)).toBe(ROWS_PER_SCRIPT); // ordinary users: full pages
    expect(nextScanBatch(100, 100 * 22_000)).toBe(45); // users with 1,000 values each
    expect(nextScanBatch(45, 45 * 900_000)).toBe(1); // one resource of almost the whole body limit per page
    expect(nextScanBatch(0, 0)).toBe(ROWS_PER_SCRIPT);
    expect(nextScanBatch(3, 3_000_001)).toBe(1);
  });
});
