/**
 * A page whose resources are read again after they matched (a scan keeps only the ids of its page's matches,
 * src/scim/list.ts; a group lookup shown with its members is read whole): a resource changed in between so
 * that it no longer matches is left out, as one deleted in between is. Found by a bug hunt (2026-12-06): a
 * PATCH racing `filter=title eq "match"` was answered with the user's new title, and Okta's group lookup
 * `displayName eq "…"` racing a rename with the new name, in nearly every try. Here the write is made to land
 * exactly between the two reads: the store runs it before the first read of a resource by id.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.js';
import { bodyText } from '../../src/scim/response-body.js';
import { makeStore, STORE_KINDS, type TestStore } from '../support/app.js';
import { scimRequest, scimSso, type ScimSso } from '../support/sso.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

describe.each(STORE_KINDS)('a page read again after its resources matched (%s store)', (kind) => {
  let made: TestStore;
  let sso: ScimSso;
  let token: string;
  /** Run once, before the next read of a resource by id (then disarmed). */
  let beforeNextRead: (() => Promise<unknown>) | null = null;

  beforeAll(async () => {
    made = await makeStore(kind, 'scan-reread');
    const store: Store = made.store;
    const getResource = store.getResource.bind(store);
    store.getResource = async (...args: Parameters<Store['getResource']>) => {
      const armed = beforeNextRead;
      beforeNextRead = null;
      await armed?.();
      return getResource(...args);
    };
    sso = scimSso({ store, rateLimit: false });
    ({ token } = await sso.createScimConnection({ customerId: `scan-reread-${kind}` }));
  });
  afterAll(async () => {
    await made?.cleanup();
  });

  const send = async (method: string, path: string, options: { query?: string; body?: unknown } = {}) => {
    const response = await sso.handleScim(scimRequest(token, method, path, options));
    return { status: response.status, body: JSON.parse(bodyText(response.body) || '{}') };
  };
  const patch = (path: string, operation: object) => () => send('PATCH', path, { body: { schemas: [PATCH_OP], Operations: [operation] } });

  it.each([
    ['a scan, users shown with their groups', ''],
    ['a scan, users shown without their groups', '&attributes=userName,title'],
    ['a sorted scan', '&sortBy=nickName'],
  ])('leaves out a user changed so that it no longer matches: %s', async (_name, more) => {
    const title = `match-${more.length}`;
    const ids: string[] = [];
    for (const n of [0, 1, 2])
      ids.push((await send('POST', '/Users', { body: { schemas: [USER], userName: `u${n}.${more.length}@reread.test`, title } })).body.id);
    beforeNextRead = patch(`/Users/${ids[0]}`, { op: 'replace', path: 'title', value: 'changed' });
    const page = await send('GET', '/Users', { query: `filter=${encodeURIComponent(`title eq "${title}"`)}${more}` });
    expect(page.status).toBe(200);
    expect(beforeNextRead).toBeNull(); // the write ran between the scan and the read again
    expect(page.body.Resources.map((r: { id: string }) => r.id).sort()).toEqual(ids.slice(1).sort());
    expect(page.body.Resources.map((r: { title: string }) => r.title)).toEqual([title, title]);
  });

  it("leaves out a group renamed between Okta's displayName lookup and the read of its members", async () => {
    const group = (await send('POST', '/Groups', { body: { schemas: [GROUP], displayName: 'Reread Group', members: [] } })).body;
    beforeNextRead = patch(`/Groups/${group.id}`, { op: 'replace', path: 'displayName', value: 'Renamed Group' });
    const page = await send('GET', '/Groups', { query: `filter=${encodeURIComponent('displayName eq "Reread Group"')}` });
    expect(page.status).toBe(200);
    expect(beforeNextRead).toBeNull();
    expect(page.body.Resources).toEqual([]);
  });
});
