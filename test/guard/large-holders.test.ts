/**
 * A login whose looked-up value is held by large users (src/guard/guard.ts candidatesOf; LOGIN_DECODE_BYTES in
 * src/store/redis-login-scripts.ts): 100 users of 0.8 MB sharing an externalId held the event loop 1.5-4 s in one
 * turn per login, and on Redis the script would have decoded every one of them (an audit, 2026-12-07). The
 * script decodes at most LOGIN_DECODE_BYTES and leaves the rest to the app, which parses a large user a turn;
 * the decision is the same. Each holder's JSON is parsed once per login (the store's activity test and the
 * guard's match share it: src/store/login-outcome.ts loginFactsOf) and only the admitted one's again, for
 * its resource: twice each before, every parsed holder kept until the decision (166 MB of heap for 100 of
 * 0.5 MB, a probe of 2026-12-07). Turns and parses are counted, never timed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { candidatesOf, runGuard } from '../../src/guard/guard.js';
import { bodyText } from '../../src/scim/response-body.js';
import { LOGIN_DECODE_BYTES } from '../../src/store/redis-scripts.js';
import type { StoredConnection } from '../../src/store/store.js';
import { makeStore, STORE_KINDS, type TestStore } from '../support/app.js';
import { ticksDuring } from '../support/event-loop.js';
import { scimRequest, scimSso, type ScimSso } from '../support/sso.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
/** Holders of one externalId, each with this much more JSON: together past what one script decodes. */
const NOTE_CHARS = 200_000;
const HOLDERS = Math.ceil((2 * LOGIN_DECODE_BYTES) / NOTE_CHARS) + 1;

describe.each(STORE_KINDS)('logins over large holders (%s store)', (kind) => {
  let made: TestStore;
  let sso: ScimSso;
  let token: string;
  let connection: StoredConnection;
  const customerId = `large-holders-${kind}`;
  const client = { customerId, matchingStrategy: 'OidcSubToScimExternalId', subjectClaim: 'sub' } as const;
  let activeId = '';

  beforeAll(async () => {
    made = await makeStore(kind, 'large-holders');
    sso = scimSso({ store: made.store, rateLimit: false, maxBodyBytes: 2_000_000 });
    ({ token } = await sso.createScimConnection({ customerId }));
    connection = (await made.store.getConnectionByCustomer(customerId))!;
    // The last one created is the only active one (Okta's deactivate-then-create, at large).
    for (let i = 0; i < HOLDERS; i++) {
      const body = { schemas: [USER], userName: `h${i}@large.test`, externalId: 'shared', active: i === HOLDERS - 1, notes: 'n'.repeat(NOTE_CHARS) };
      const response = await sso.handleScim(scimRequest(token, 'POST', '/Users', { body }));
      expect(response.status).toBe(201);
      activeId = (JSON.parse(bodyText(response.body)!) as { id: string }).id;
    }
  });
  afterAll(async () => {
    await made?.cleanup();
  });

  it('admits the one active holder, the holders parsed a turn each', async () => {
    const { result, ticks: turns } = await ticksDuring(() => runGuard(made.store, { client, connection }, { sub: 'shared' }));
    expect(result.scimUser?.id).toBe(activeId);
    expect(turns).toBeGreaterThanOrEqual(HOLDERS);
    const found = await made.store.findUsersForLogin(connection.connectionId, 'externalId', 'shared');
    expect(found.users).toHaveLength(HOLDERS);
  });

  it('parses large candidates in turns of their own, keeping their facts and not their resources', async () => {
    // The store may have read the facts already, in turns of its own (the Redis store, for the holders its
    // script left undecided); either way, each large holder is parsed in a turn of its own.
    const { result, ticks: turns } = await ticksDuring(async () =>
      candidatesOf((await made.store.findUsersForLogin(connection.connectionId, 'externalId', 'shared')).users),
    );
    expect(result.map((c) => c.active)).toEqual(Array.from({ length: HOLDERS }, (_, i) => i === HOLDERS - 1));
    expect(result.map((c) => [c.userName, c.externalId])).toEqual(Array.from({ length: HOLDERS }, (_, i) => [`h${i}@large.test`, 'shared']));
    for (const candidate of result) expect(candidate).not.toHaveProperty('resource');
    expect(turns).toBeGreaterThanOrEqual(HOLDERS);
  });

  it('parses each holder once in a login, and the admitted one again for the resource the app gets', async () => {
    const parse = JSON.parse;
    let holderParses = 0;
    JSON.parse = ((text: string, reviver?: Parameters<typeof parse>[1]) => {
      if (typeof text === 'string' && text.length > NOTE_CHARS) holderParses++;
      return parse(text, reviver);
    }) as typeof JSON.parse;
    let result: Awaited<ReturnType<typeof runGuard>>;
    try {
      result = await runGuard(made.store, { client, connection }, { sub: 'shared' });
    } finally {
      JSON.parse = parse;
    }
    expect(result.scimUser?.id).toBe(activeId);
    expect(result.scimUser?.resource).toMatchObject({ userName: `h${HOLDERS - 1}@large.test`, externalId: 'shared', active: true });
    expect((result.scimUser?.resource as { notes: string }).notes).toHaveLength(NOTE_CHARS);
    expect(holderParses).toBe(HOLDERS + 1);
  });
});
