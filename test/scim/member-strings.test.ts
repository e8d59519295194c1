/**
 * A group member's strings are bounded as identifiers are (src/scim/resource-limits.ts): its `value`,
 * `display` (or `displayName`) and `type` at most MAX_IDENTIFIER_LENGTH characters each, in a POST, a PUT
 * and every PATCH that writes members. A member list is read and answered whole, so before the bound a
 * tenant's group of 40 members with 900,000-character displays was an answer of 36 MB whose rendering held
 * the event loop 370 ms for every tenant (a hostile-tenant audit, 2026-12-07).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_IDENTIFIER_LENGTH } from '../../src/scim/limits.js';
import { bodyText } from '../../src/scim/response-body.js';
import { makeStore, STORE_KINDS, type TestStore } from '../support/app.js';
import { scimRequest, scimSso, type ScimSso } from '../support/sso.js';

const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const long = 'x'.repeat(MAX_IDENTIFIER_LENGTH + 1);
const longest = 'y'.repeat(MAX_IDENTIFIER_LENGTH);

describe.each(STORE_KINDS)("a group member's strings (%s store)", (kind) => {
  let made: TestStore;
  let sso: ScimSso;
  let token: string;
  let groupId: string;

  beforeAll(async () => {
    made = await makeStore(kind, 'member-strings');
    sso = scimSso({ store: made.store, rateLimit: false });
    ({ token } = await sso.createScimConnection({ customerId: `member-strings-${kind}` }));
    const created = await sso.handleScim(scimRequest(token, 'POST', '/Groups', { body: { schemas: [GROUP], displayName: 'kept' } }));
    groupId = (JSON.parse(bodyText(created.body)!) as { id: string }).id;
  });
  afterAll(async () => {
    await made?.cleanup();
  });

  const members = async () => {
    const read = await sso.handleScim(scimRequest(token, 'GET', `/Groups/${groupId}`));
    return (JSON.parse(bodyText(read.body)!) as { members?: { value: string; display?: string; type?: string }[] }).members ?? [];
  };

  const tooLong: [string, Record<string, string>, string][] = [
    ['display', { value: 'm1', display: long }, 'a members display is'],
    ['displayName', { value: 'm1', displayName: long }, 'a members displayName is'],
    ['type', { value: 'm1', type: long }, 'a members type is'],
    ['value', { value: long }, 'a members value is'],
  ];

  it.each(tooLong)('refuses a member whose %s is too long in a POST, a PUT and a PATCH, and writes nothing', async (_, member, detail) => {
    const refusals = [
      await sso.handleScim(scimRequest(token, 'POST', '/Groups', { body: { schemas: [GROUP], displayName: `new-${detail}`, members: [member] } })),
      await sso.handleScim(scimRequest(token, 'PUT', `/Groups/${groupId}`, { body: { schemas: [GROUP], displayName: 'kept', members: [member] } })),
      await sso.handleScim(
        scimRequest(token, 'PATCH', `/Groups/${groupId}`, { body: { schemas: [PATCH], Operations: [{ op: 'add', path: 'members', value: [member] }] } }),
      ),
      await sso.handleScim(
        scimRequest(token, 'PATCH', `/Groups/${groupId}`, { body: { schemas: [PATCH], Operations: [{ op: 'add', value: { members: [member] } }] } }),
      ),
    ];
    for (const refused of refusals) {
      expect(refused.status).toBe(400);
      expect(JSON.parse(bodyText(refused.body)!)).toMatchObject({
        scimType: 'invalidValue',
        detail: `${detail} ${MAX_IDENTIFIER_LENGTH + 1} characters long; at most ${MAX_IDENTIFIER_LENGTH} are accepted`,
      });
    }
    expect(await members()).toEqual([]);
    const listed = await sso.handleScim(scimRequest(token, 'GET', '/Groups', { query: `filter=${encodeURIComponent(`displayName eq "new-${detail}"`)}` }));
    expect(JSON.parse(bodyText(listed.body)!)).toMatchObject({ totalResults: 0 });
  });

  it('refuses a too-long display written through a member value path, and keeps the member as it was', async () => {
    const added = await sso.handleScim(
      scimRequest(token, 'PATCH', `/Groups/${groupId}`, {
        body: { schemas: [PATCH], Operations: [{ op: 'add', path: 'members', value: [{ value: 'm2', display: 'short' }] }] },
      }),
    );
    expect(added.status).toBe(204);
    const refused = await sso.handleScim(
      scimRequest(token, 'PATCH', `/Groups/${groupId}`, {
        body: { schemas: [PATCH], Operations: [{ op: 'replace', path: 'members[value eq "m2"].display', value: long }] },
      }),
    );
    expect(refused.status).toBe(400);
    expect(await members()).toEqual([expect.objectContaining({ value: 'm2', display: 'short' })]);
  });

  it('takes strings of exactly the limit', async () => {
    const added = await sso.handleScim(
      scimRequest(token, 'PATCH', `/Groups/${groupId}`, {
        body: { schemas: [PATCH], Operations: [{ op: 'add', path: 'members', value: [{ value: longest, display: longest, type: 'User' }] }] },
      }),
    );
    expect(added.status).toBe(204);
    expect((await members()).find((m) => m.value === longest)).toMatchObject({ display: longest, type: 'User' });
  });
});
