/**
 * A filter on a value that folds to '' (`emails.value eq ""`, `eq "   "`) is answered by a scan: the email
 * index holds no such value (src/scim/users.ts), and answering from it found nobody, so a filter and its
 * negation left users out (a bug hunt, 2026-12-06). Both spellings of the same comparison agree.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bodyText } from '../../src/scim/response-body.js';
import { makeStore, STORE_KINDS, type TestStore } from '../support/app.js';
import { scimRequest, scimSso, type ScimSso } from '../support/sso.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';

describe.each(STORE_KINDS)('filters on a blank value (%s store)', (kind) => {
  let made: TestStore;
  let sso: ScimSso;
  let token: string;

  beforeAll(async () => {
    made = await makeStore(kind, 'blank-lookup');
    sso = scimSso({ store: made.store, rateLimit: false });
    ({ token } = await sso.createScimConnection({ customerId: `blank-lookup-${kind}` }));
    const users = [
      { userName: 'blank', emails: [{ value: '', display: 'no address yet' }] },
      { userName: 'spaces', emails: [{ value: '   ', type: 'work' }] },
      { userName: 'normal', emails: [{ value: 'n@x.example', type: 'work' }] },
    ];
    for (const user of users) expect((await sso.handleScim(scimRequest(token, 'POST', '/Users', { body: { schemas: [USER], ...user } }))).status).toBe(201);
  });
  afterAll(async () => {
    await made?.cleanup();
  });

  const names = async (filter: string) => {
    const response = await sso.handleScim(scimRequest(token, 'GET', '/Users', { query: `filter=${encodeURIComponent(filter)}` }));
    expect(response.status).toBe(200);
    return (JSON.parse(bodyText(response.body)!).Resources as { userName: string }[]).map((u) => u.userName).sort();
  };

  it.each(['emails.value eq ""', 'emails eq ""', 'emails[value eq ""]', 'emails.value eq "   "'])(
    '%s finds the users whose email folds to nothing',
    async (filter) => {
      expect(await names(filter)).toEqual(['blank', 'spaces']);
    },
  );

  it('a filter and its negation cover every user', async () => {
    expect([...(await names('emails.value eq ""')), ...(await names('not (emails.value eq "")'))].sort()).toEqual(['blank', 'normal', 'spaces']);
  });
});
