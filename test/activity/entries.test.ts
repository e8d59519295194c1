/**
 * The pure parts of the activity log: which path a request is logged under (never what a client chose to
 * put in it), what a stored entry must look like to be read back, the fix hints, and the recorder's bound
 * on what it buffers.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { loggedPath, parseLoginEntry, parseScimRequestEntry, scimRequestEntry } from '../../src/activity/entries.js';
import { ActivityRecorder, MAX_PENDING_ENTRIES } from '../../src/activity/recorder.js';
import { refusalHint } from '../../src/match/refusal-hints.js';
import { MATCHING_STRATEGIES, SAML_MATCHING_STRATEGIES } from '../../src/match/strategies.js';
import { MemoryActivityLog } from '../../src/store/activity-log.js';
import { memoryStore } from '../../src/store/memory.js';
import { StoreUnavailableError } from '../../src/store/unavailable.js';

const ID = '2819c223-7f76-453a-919d-413861904646';

describe('loggedPath', () => {
  it.each([
    ['/Users', '/Users'],
    ['/users/', '/Users'],
    [`/Users/${ID}`, `/Users/${ID}`],
    ['/Users/.search', '/Users/.search'],
    ['/Groups', '/Groups'],
    ['/Schemas/urn:ietf:params:scim:schemas:core:2.0:User', '/Schemas/urn:ietf:params:scim:schemas:core:2.0:User'],
    ['/ResourceTypes/User', '/ResourceTypes/User'],
    ['/Users/alice@corp.test', '/Users/…'],
    ['/Schemas/urn:ietf:params:scim:schemas:ann.smith.corp.test', '/Schemas/…'],
    ['/Users/Alice%20Smith', '/Users/…'],
    [`/Users/${ID}/x/y/z`, `/Users/${ID}/…/…`],
    ['/etc/passwd', '/…'],
    ['/__proto__', '/…'],
    ['/', '/'],
  ])('%s → %s', (path, shown) => {
    expect(loggedPath(path)).toBe(shown);
    // The recorder keeps the logged path and formats the entry later: logging it again changes nothing.
    expect(loggedPath(shown)).toBe(shown);
  });

  it('keeps no character a client chose outside a UUID, a known endpoint or a discovery id', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), fc.string({ maxLength: 80 }), (a, b) => {
        const shown = loggedPath(`/Users/${a}/${b}`);
        expect(loggedPath(shown)).toBe(shown);
        expect(shown.length).toBeLessThanOrEqual(200);
        expect(shown).toMatch(
          /^\/Users(\/(…|\.search|[0-9a-f-]{36}|User|Group|urn:ietf:params:scim:schemas:(core:2\.0:User|core:2\.0:Group|extension:enterprise:2\.0:User))){0,3}$/i,
        );
      }),
    );
  });
});

describe('entries', () => {
  it('a request entry: upper-case known method (else OTHER), ISO time, latency to 0.1 ms', () => {
    expect(scimRequestEntry({ startedAt: 0, method: 'patch', path: `/Users/${ID}`, status: 204, scimType: null, latencyMs: 1.234 })).toEqual({
      at: '1970-01-01T00:00:00.000Z',
      method: 'PATCH',
      path: `/Users/${ID}`,
      status: 204,
      scimType: null,
      latencyMs: 1.2,
    });
    expect(scimRequestEntry({ startedAt: 0, method: 'BREW', path: '/', status: 405, scimType: null, latencyMs: 0 }).method).toBe('OTHER');
  });

  it('reads back only well-formed entries', () => {
    const good = scimRequestEntry({ startedAt: 0, method: 'GET', path: '/Users', status: 200, scimType: null, latencyMs: 1 });
    expect(parseScimRequestEntry(JSON.stringify(good))).toEqual(good);
    for (const bad of ['', 'null', '[]', '{"at":1}', JSON.stringify({ ...good, status: '200' }), JSON.stringify({ ...good, scimType: 3 })]) {
      expect(parseScimRequestEntry(bad)).toBeNull();
    }
    const login = { at: 'x', outcome: 'refused', reason: 'deleted', strategy: null, subject: 's', email: null, scimUserId: null };
    expect(parseLoginEntry(JSON.stringify(login))).toEqual(login);
    expect(parseLoginEntry(JSON.stringify({ ...login, outcome: 'admitted' }))).toBeNull();
    expect(parseLoginEntry(JSON.stringify({ ...login, email: 5 }))).toBeNull();
  });
});

describe('refusalHint', () => {
  it('names, for every strategy, the attribute compared when no SCIM user matched', () => {
    for (const strategy of [...MATCHING_STRATEGIES, ...SAML_MATCHING_STRATEGIES]) {
      const hint = refusalHint('not_provisioned', strategy);
      expect(hint).toMatch(strategy.endsWith('ExternalId') ? /externalId/ : /userName/);
    }
    expect(refusalHint('not_provisioned', 'OidcSubToScimExternalId')).toMatch(/externalId ← objectId/);
  });

  it('has advice for every reason and for strategies and reasons it does not know', () => {
    for (const reason of ['deactivated', 'deleted', 'ambiguous', 'idp_error', 'access_denied', 'missing_claim', 'something_new']) {
      expect(refusalHint(reason, '__proto__').length).toBeGreaterThan(20);
    }
    expect(refusalHint('deactivated', null)).toMatch(/deactivated/);
  });
});

describe('ActivityRecorder', () => {
  it('buffers at most MAX_PENDING_ENTRIES and counts what it drops; per list only what the store keeps', async () => {
    const store = memoryStore();
    const recorder = new ActivityRecorder(store, { maxRequests: 3, maxLogins: 3, flushIntervalMs: 60_000, retentionMs: 60_000 }, (e) => {
      throw e;
    });
    const entry = { startedAt: 0, method: 'GET', path: '/Users', status: 200, scimType: null, latencyMs: 1 };
    // One customer's flood is trimmed to what the store keeps: it never fills the buffer.
    for (let i = 0; i < 3 * MAX_PENDING_ENTRIES; i++) recorder.recordScimRequest('busy', entry);
    expect(recorder.dropped).toBe(0);
    // Many customers fill it: past the bound, entries are dropped and counted.
    for (let i = 0; i < MAX_PENDING_ENTRIES; i++) recorder.recordScimRequest(`c${i}`, entry);
    expect(recorder.dropped).toBeGreaterThan(0);
    expect(recorder.dropped).toBeLessThanOrEqual(6);
    await recorder.flush();
    expect(await store.readActivity('busy', 'scim', 100)).toHaveLength(3);
    expect(await store.readActivity('c0', 'scim', 100)).toHaveLength(1);
  });

  it('writes the newest entries of a list, oldest first, formatted as scimRequestEntry formats them', async () => {
    const store = memoryStore();
    const recorder = new ActivityRecorder(store, { maxRequests: 3, maxLogins: 3, flushIntervalMs: 60_000, retentionMs: 60_000 }, (e) => {
      throw e;
    });
    const request = (n: number) => ({ startedAt: n * 1000, method: 'get', path: `/Users/alice${n}@corp.test`, status: 200 + n, scimType: null, latencyMs: n });
    for (let n = 0; n < 8; n++) recorder.recordScimRequest('ring', request(n));
    await recorder.flush();
    const newestFirst = [7, 6, 5].map((n) => JSON.stringify(scimRequestEntry(request(n))));
    expect(await store.readActivity('ring', 'scim', 10)).toEqual(newestFirst);
    expect(newestFirst[0]).toContain('"path":"/Users/…"');
    // Past a flush, the ring starts again.
    recorder.recordScimRequest('ring', request(9));
    await recorder.flush();
    expect(await store.readActivity('ring', 'scim', 10)).toEqual([JSON.stringify(scimRequestEntry(request(9))), ...newestFirst.slice(0, 2)]);
  });

  it('reports a store failure to onError and never rejects', async () => {
    const errors: unknown[] = [];
    const broken = { ...memoryStore(), appendActivity: () => Promise.reject(new Error('down')) };
    const recorder = new ActivityRecorder(broken, { maxRequests: 3, maxLogins: 3, flushIntervalMs: 60_000, retentionMs: 60_000 }, (e) => errors.push(e));
    recorder.recordLogin('c', { at: 'x', outcome: 'failed', reason: 'idp_error', strategy: null, subject: null, email: null, scimUserId: null });
    await expect(recorder.flush()).resolves.toBeUndefined();
    expect(errors).toEqual([new Error('down')]);
  });

  it('drops a batch the store cannot take because it is unreachable, counting it, without calling onError', async () => {
    const errors: unknown[] = [];
    const down = { ...memoryStore(), appendActivity: () => Promise.reject(new StoreUnavailableError('the store is down')) };
    const recorder = new ActivityRecorder(down, { maxRequests: 3, maxLogins: 3, flushIntervalMs: 60_000, retentionMs: 60_000 }, (e) => errors.push(e));
    for (const customer of ['a', 'b'])
      recorder.recordLogin(customer, { at: 'x', outcome: 'failed', reason: 'idp_error', strategy: null, subject: null, email: null, scimUserId: null });
    await recorder.flush();
    expect(errors).toEqual([]);
    expect(recorder.dropped).toBe(2);
  });
});

describe('MemoryActivityLog', () => {
  it('drops the lists of customers idle past the retention once the log is written again, as Redis expires them', () => {
    let now = 0;
    const log = new MemoryActivityLog(() => now);
    const append = (customerId: string) => log.append([{ customerId, log: 'scim', entries: ['{}'], maxEntries: 200 }], 1000);
    for (let i = 0; i < 50; i++) append(`gone-${i}`);
    now = 500;
    append('busy');
    expect(log.size).toBe(51);
    now = 1200; // the 50 expired at 1000; busy, written at 500, lives to 1500
    append('late');
    expect(log.size).toBe(2);
    expect(log.read('busy', 'scim', 10)).toEqual(['{}']);
    expect(log.read('gone-0', 'scim', 10)).toEqual([]);
    now = 1600;
    append('busy'); // written again: kept, and moved behind the list written after it
    expect(log.size).toBe(2);
    now = 2300; // late expired at 2200, busy lives to 2600
    append('other');
    expect([log.size, log.read('busy', 'scim', 10).length, log.read('late', 'scim', 10).length]).toEqual([2, 1, 0]);
  });
});
