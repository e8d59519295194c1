/**
 * Heavy requests per SCIM connection (src/scim/heavy-work.ts): a request that has read more than
 * HEAVY_READ_BYTES holds one of its connection's MAX_HEAVY_AT_ONCE slots until its answer is written (the
 * response's `sent`) or collected; past them a heavy request is refused with 429, while light requests and
 * other connections go on. Before, 40 scans or 380 unread large answers of one tenant took the process's
 * memory (an audit of 2026-12-06).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedWeight, HEAVY_READ_BYTES, HeavyTicket, HeavyWork, MAX_HEAVY_AT_ONCE } from '../../src/scim/heavy-work.js';
import type { ScimResponse } from '../../src/scim/http.js';
import { bodyText, writeBody } from '../../src/scim/response-body.js';
import { makeStore, STORE_KINDS, type TestStore } from '../support/app.js';
import { scimRequest, scimSso, type ScimSso } from '../support/sso.js';
import { SCIM_SERVERS } from '../support/scim-servers.js';
import { aroundStoreCalls } from '../support/store-calls.js';
import type { Page } from '../../src/store/store.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** Runs full collections until `done` holds (finalizers run after a collection, on a later task). */
async function collectUntil(done: () => boolean): Promise<boolean> {
  for (let i = 0; i < 50 && !done(); i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return done();
}

describe('HeavyWork', () => {
  /**
   * A request of connection 'a' weighed at the threshold (`weigh`: HeavyTicket.charge or .expect) takes no
   * slot, and MAX_HEAVY_AT_ONCE weighed just past it take them all; answers the light ticket and the heavy ones.
   */
  function fillSlots(work: HeavyWork, weigh: (ticket: HeavyTicket, bytes: number) => void) {
    const light = work.ticket('a');
    weigh(light, HEAVY_READ_BYTES);
    expect(work.held('a')).toBe(0);
    const tickets = Array.from({ length: MAX_HEAVY_AT_ONCE }, () => work.ticket('a'));
    for (const ticket of tickets) weigh(ticket, HEAVY_READ_BYTES + 1);
    expect(work.held('a')).toBe(MAX_HEAVY_AT_ONCE);
    return { light, tickets };
  }

  it('takes a slot only past HEAVY_READ_BYTES, at most MAX_HEAVY_AT_ONCE per connection, given back once', () => {
    const work = new HeavyWork();
    const { light, tickets } = fillSlots(work, (ticket, bytes) => ticket.charge(bytes));
    const refused = (() => {
      try {
        work.ticket('a').charge(HEAVY_READ_BYTES + 1);
        return null;
      } catch (error) {
        return error as { status: number; headers?: Record<string, string> };
      }
    })();
    expect(refused).toMatchObject({ status: 429, headers: { 'Retry-After': '1' } });
    // Another connection has its own slots.
    work.ticket('b').charge(HEAVY_READ_BYTES + 1);
    expect(work.held('b')).toBe(1);
    // A small answer or a failure gives the slot back at once; an answer in parts written by an adapter when
    // sent, once; one handed to an in-process caller at once.
    expect(tickets[0]!.settle('{}', true)).toBeUndefined();
    expect(tickets[1]!.settle(undefined, true)).toBeUndefined();
    const sent = tickets[2]!.settle([Buffer.from('x')], true);
    expect(work.held('a')).toBe(MAX_HEAVY_AT_ONCE - 2);
    sent!();
    sent!();
    expect(work.held('a')).toBe(MAX_HEAVY_AT_ONCE - 3);
    expect(tickets[3]!.settle([Buffer.from('x')], false)).toBeUndefined();
    expect(work.held('a')).toBe(0);
    expect(light.settle([Buffer.from('x')], true)).toBeUndefined(); // no slot, nothing to give back
  });

  /** Whether `ticket`'s first read would be made small (HeavyTicket.firstRead). */
  const crowdedOf = (ticket: HeavyTicket, scan = false) => ticket.firstRead(async (crowded) => crowded, scan);

  it('takes a slot for a request expected to read past HEAVY_READ_BYTES before it reads it, or refuses it then', async () => {
    const work = new HeavyWork();
    expect(expectedWeight(1000, 10, 2000)).toBe(200_000);
    expect(expectedWeight(0, 0, 5)).toBe(0);
    const { tickets } = fillSlots(work, (ticket, bytes) => ticket.expect(bytes));
    // Once it holds a slot, what it then reads changes nothing.
    tickets[0]!.charge(10 * HEAVY_READ_BYTES);
    expect(work.held('a')).toBe(MAX_HEAVY_AT_ONCE);
    // Crowded: every slot taken, none by this request (its first read is then made small).
    expect(await Promise.all([crowdedOf(work.ticket('a')), crowdedOf(tickets[0]!), crowdedOf(work.ticket('b'))])).toEqual([true, false, false]);
    expect(() => work.ticket('a').expect(HEAVY_READ_BYTES + 1)).toThrow(expect.objectContaining({ status: 429 }));
    for (const ticket of tickets) ticket.settle(undefined);
    expect(work.held('a')).toBe(0);
    expect(await crowdedOf(work.ticket('a'))).toBe(false);
  });

  it('makes the first read of a scan small while as many scans read theirs as there are slots (a burst sends them all before any takes one)', async () => {
    const work = new HeavyWork();
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const reading = Array.from({ length: MAX_HEAVY_AT_ONCE }, () =>
      work.ticket('c').firstRead(async (crowded) => {
        await gate;
        return crowded;
      }, true),
    );
    expect(await crowdedOf(work.ticket('c'), true)).toBe(true);
    // A client page counts only the slots taken: concurrent pages of ordinary users keep their one read.
    expect(await crowdedOf(work.ticket('c'), false)).toBe(false);
    expect(await crowdedOf(work.ticket('d'), true)).toBe(false);
    open();
    expect(await Promise.all(reading)).toEqual(reading.map(() => false));
    expect(await crowdedOf(work.ticket('c'), true)).toBe(false);
  });

  it('reports an answer written when its client left before it was ready (its connection closed already)', async () => {
    const server = createServer((req, res) => {
      res.once('close', () => {
        let sent = 0;
        writeBody(res, [Buffer.from('x')], () => sent++);
        answered(sent);
      });
      req.socket.destroy();
    });
    let answered!: (sent: number) => void;
    const outcome = new Promise<number>((resolve) => (answered = resolve));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await fetch(`http://127.0.0.1:${port}/`).catch(() => null);
    expect(await outcome).toBe(1);
    await new Promise((resolve) => server.close(resolve));
  });

  it('gives the slot of an answer in parts back when nobody reports it written and it is collected', async () => {
    const work = new HeavyWork();
    const ticket = work.ticket('a');
    ticket.charge(HEAVY_READ_BYTES + 1);
    (() => void ticket.settle([Buffer.alloc(1024)], true))();
    expect(await collectUntil(() => work.held('a') === 0)).toBe(true);
  });
});

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/** Users of about 30 KB: a page of 100 of them reads about 3 MB, past HEAVY_READ_BYTES. */
const roles = Array.from({ length: 200 }, (_, i) => ({ value: `role-${i}-${'r'.repeat(140)}` }));

describe.each(STORE_KINDS)('heavy requests of one connection (%s store)', (kind) => {
  let made: TestStore;
  let sso: ScimSso;
  let token: string;
  let other: string;
  let someone: string;
  let pageBytes = 0;
  let membersRead = 0;

  beforeAll(async () => {
    made = await makeStore(kind, `heavy-work-${kind}`);
    // Counts the rows the SCIM layer reads in pages, to see what a refused request read.
    let counted = aroundStoreCalls(made.store, (method, call) => {
      const result = call();
      if (method !== 'listPage' && method !== 'listSorted') return result;
      return (result as Promise<Page | null>).then((page) => {
        for (const resource of page?.resources ?? []) pageBytes += resource.json.length;
        return page;
      });
    });
    // Counts the members read in group pages, to see what a refused group read read.
    counted = aroundStoreCalls(counted, (method, call) => {
      const result = call();
      if (method !== 'listGroupMembers') return result;
      return (result as Promise<{ members: unknown[] } | null>).then((page) => {
        membersRead += page?.members.length ?? 0;
        return page;
      });
    });
    sso = scimSso({ store: counted, rateLimit: false });
    ({ token } = await sso.createScimConnection({ customerId: `heavy-${kind}` }));
    ({ token: other } = await sso.createScimConnection({ customerId: `heavy-other-${kind}` }));
    for (const t of [token, other]) {
      for (let i = 0; i < 120; i += 20) {
        const created = await Promise.all(
          Array.from({ length: 20 }, (_, j) =>
            sso.handleScim(scimRequest(t, 'POST', '/Users', { body: { schemas: [USER], userName: `h${i + j}@heavy.test`, roles } })),
          ),
        );
        expect(created.map((r) => r.status)).toEqual(created.map(() => 201));
        someone = (JSON.parse(bodyText(created[0]!.body)!) as { id: string }).id;
      }
    }
  });
  afterAll(async () => {
    await made?.cleanup();
  });

  /** A request as the adapters hand it over: they report its answer written (`sent`). */
  const adapted = (...args: Parameters<typeof scimRequest>) => ({ ...scimRequest(...args), reportsSent: true });
  const page = (t: string, query = 'count=100') => sso.handleScim(adapted(t, 'GET', '/Users', { query }));

  it('holds a slot per unwritten large answer: past MAX_HEAVY_AT_ONCE a heavy request is refused, light ones and other connections are not', async () => {
    const held: ScimResponse[] = [];
    for (let i = 0; i < MAX_HEAVY_AT_ONCE; i++) held.push(await page(token));
    expect(held.map((r) => [r.status, Array.isArray(r.body), typeof r.sent])).toEqual(held.map(() => [200, true, 'function']));

    for (const query of ['count=100', 'filter=title eq "nobody"', 'sortBy=title&count=2']) {
      pageBytes = 0;
      const refused = await page(token, query);
      expect(refused.status, query).toBe(429);
      // Refused on what its first store page says the rest weighs, before reading the rest; with every slot
      // taken that page is about one row (16 KB of rows, the store's page ends after one: these users are
      // 31 KB). Before, a refused request read 2 MB first: those of a burst of 380 read 1.2-1.6 GB.
      expect(pageBytes, query).toBeGreaterThan(0);
      expect(pageBytes, query).toBeLessThan(16 * 1024 + 40_000);
      expect(refused.headers['Retry-After']).toBe('1');
      expect(JSON.parse(bodyText(refused.body)!)).toMatchObject({ status: '429', detail: expect.stringContaining('read much') });
    }
    // A request that is light after all still answers while the connection is crowded (its first read small).
    pageBytes = 0;
    const light = await page(token, 'count=2');
    expect([light.status, (JSON.parse(bodyText(light.body)!) as { itemsPerPage: number }).itemsPerPage]).toEqual([200, 2]);
    // Light requests of the same connection, and heavy ones of another, go on.
    expect((await page(token, 'count=3')).status).toBe(200);
    expect((await sso.handleScim(scimRequest(token, 'GET', `/Users/${someone}`))).status).toBe(404); // someone is the other connection's
    expect((await page(other)).status).toBe(200);

    // An answer reported written frees its slot for the next heavy request.
    held.shift()!.sent!();
    const next = await page(token);
    expect(next.status).toBe(200);
    next.sent!();
    for (const response of held) response.sent!();
  });

  it.each(Object.keys(SCIM_SERVERS))('the %s adapter reports a large answer written: its slot is free for the next heavy request', async (name) => {
    const server = SCIM_SERVERS[name as keyof typeof SCIM_SERVERS](sso);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const response = await fetch(`http://127.0.0.1:${port}/scim/v2/Users?count=100`, { headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(200);
      expect(((await response.json()) as { Resources: unknown[] }).Resources).toHaveLength(100);
      // Its slot was given back when the answer went out: every slot is free for answers held in process.
      const held: ScimResponse[] = [];
      for (let i = 0; i < MAX_HEAVY_AT_ONCE; i++) held.push(await page(token));
      expect(held.map((r) => r.status)).toEqual(held.map(() => 200));
      for (const r of held) r.sent!();
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('gives an in-process caller (no reportsSent) its slot back with the answer: sequential heavy requests all answer', async () => {
    for (let i = 0; i < MAX_HEAVY_AT_ONCE * 3; i++) {
      const response = await sso.handleScim(scimRequest(token, 'GET', '/Users', { query: 'count=100' }));
      expect(response.status).toBe(200);
      expect(response.sent).toBeUndefined();
    }
  });

  it('weighs a group PATCH that asks for its members back before writing: refused, it wrote nothing', async () => {
    const members = Array.from({ length: 20_500 }, (_, i) => ({ value: `m${i}` }));
    const created = await sso.handleScim(scimRequest(token, 'POST', '/Groups', { body: { schemas: [GROUP], displayName: `big-${kind}`, members } }));
    expect(created.status).toBe(201);
    const id = (JSON.parse(bodyText(created.body)!) as { id: string }).id;
    const rename = (name: string) =>
      sso.handleScim(
        adapted(token, 'PATCH', `/Groups/${id}`, {
          query: 'attributes=displayName,members',
          body: { schemas: [PATCH], Operations: [{ op: 'replace', path: 'displayName', value: name }] },
        }),
      );
    const held: ScimResponse[] = [];
    for (let i = 0; i < MAX_HEAVY_AT_ONCE; i++) held.push(await page(token));
    expect((await rename('renamed while busy')).status).toBe(429);
    const bare = await sso.handleScim(scimRequest(token, 'GET', `/Groups/${id}`, { query: 'excludedAttributes=members' }));
    expect(JSON.parse(bodyText(bare.body)!)).toMatchObject({ displayName: `big-${kind}`, meta: { version: 'W/"1"' } });
    for (const response of held) response.sent!();
    const renamed = await rename('renamed');
    expect(renamed.status).toBe(200);
    expect(JSON.parse(bodyText(renamed.body)!)).toMatchObject({ displayName: 'renamed', members: expect.any(Array) });
    renamed.sent?.();
  });

  it('weighs a group read by what its members hold: 2,100 members of 1,024-character displays are heavy', async () => {
    // 100 bytes a member before reading (MEMBER_READ_BYTES) would weigh them 210 KB: light. They hold 2.2 MB.
    const created = await sso.handleScim(scimRequest(token, 'POST', '/Groups', { body: { schemas: [GROUP], displayName: `long-displays-${kind}` } }));
    const id = (JSON.parse(bodyText(created.body)!) as { id: string }).id;
    for (let from = 0; from < 2_100; from += 500) {
      const value = Array.from({ length: Math.min(500, 2_100 - from) }, (_, i) => ({ value: `d${from + i}`, display: 'd'.repeat(1_024) }));
      const added = await sso.handleScim(
        scimRequest(token, 'PATCH', `/Groups/${id}`, { body: { schemas: [PATCH], Operations: [{ op: 'add', path: 'members', value }] } }),
      );
      expect(added.status).toBe(204);
    }
    const held: ScimResponse[] = [];
    for (let i = 0; i < MAX_HEAVY_AT_ONCE; i++) held.push(await page(token));
    membersRead = 0;
    const refused = await sso.handleScim(adapted(token, 'GET', `/Groups/${id}`));
    expect(refused.status).toBe(429);
    // Refused on what its first page says the rest weighs, a few members while every slot is taken (1,000
    // before: 1 MB of members read by each refused request of a burst).
    expect(membersRead).toBeGreaterThan(0);
    expect(membersRead).toBeLessThanOrEqual(16);
    // Without its members the group is light, crowded or not.
    expect((await sso.handleScim(adapted(token, 'GET', `/Groups/${id}`, { query: 'excludedAttributes=members' }))).status).toBe(200);
    for (const response of held) response.sent!();
    const read = await sso.handleScim(adapted(token, 'GET', `/Groups/${id}`));
    expect(read.status).toBe(200);
    // Read in pages of fewer members where they weigh more (RENDER_PAGE_BYTES), none missed or repeated.
    const values = (JSON.parse(bodyText(read.body)!) as { members: { value: string }[] }).members.map((m) => m.value);
    expect(values).toEqual(Array.from({ length: 2_100 }, (_, i) => `d${i}`));
    expect(typeof read.sent).toBe('function'); // it holds a slot until written
    read.sent!();
  });

  it('frees the slots of answers nobody reported written once they are collected', async () => {
    await (async () => {
      for (let i = 0; i < MAX_HEAVY_AT_ONCE; i++) expect((await page(token)).status).toBe(200);
    })();
    let status = 0;
    for (let i = 0; i < 20 && status !== 200; i++) {
      await collectUntil(() => false);
      const response = await page(token);
      status = response.status;
      response.sent?.();
    }
    expect(status).toBe(200);
  });
});
