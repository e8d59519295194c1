import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { rawHttp } from '../support/raw-http.js';
import { gzipSync } from 'node:zlib';
import { SCIM_JSON, SCIM_TARGETS, scimTestApp, type ScimTestApp } from '../support/app.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/** An Okta-shaped create body (docs/idp-behaviour.md §Okta). */
const oktaUser = (userName: string, extra: Record<string, unknown> = {}) => ({
  schemas: [USER],
  userName,
  name: { givenName: 'Test', familyName: 'User' },
  emails: [{ primary: true, value: userName, type: 'work' }],
  displayName: 'Test User',
  locale: 'en-US',
  externalId: `00u-${userName}`,
  groups: [],
  password: 'placeholder-Secret1',
  active: true,
  ...extra,
});

describe.each(SCIM_TARGETS)('SCIM /Users on the $store store through $adapter', ({ store: kind, adapter }) => {
  let t: ScimTestApp;
  beforeAll(async () => {
    t = await scimTestApp(kind, `users-${kind}-${adapter}`, {}, adapter);
  });
  afterAll(async () => {
    expect(t.unexpected).toEqual([]);
    await t.cleanup();
  });

  const create = async (userName: string, extra: Record<string, unknown> = {}) => {
    const res = await t.http.post('/scim/v2/Users').set(t.auth).send(oktaUser(userName, extra));
    expect(res.status).toBe(201);
    return res.body as Record<string, any>;
  };

  it('reads a primary left out as false (RFC 7643 §2.4) in list filters and PATCH value filters', async () => {
    const userName = `primary-${kind}-${adapter}@example.com`;
    const made = await create(userName, {
      emails: [
        { value: userName, type: 'work', primary: true },
        { value: `home-${userName}`, type: 'home' },
      ],
    });
    for (const filter of [`userName eq "${userName}" and emails[primary eq false]`, `userName eq "${userName}" and emails.primary eq false`]) {
      expect((await t.http.get('/scim/v2/Users').set(t.auth).query({ filter })).body.totalResults, filter).toBe(1);
    }
    const patched = await t.http
      .patch(`/scim/v2/Users/${made.id}`)
      .set(t.auth)
      .send({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'emails[primary eq false].display', value: 'Home' }] });
    expect(patched.status).toBe(204);
    expect((await t.http.get(`/scim/v2/Users/${made.id}`).set(t.auth)).body.emails).toEqual([
      { value: userName, type: 'work', primary: true },
      { value: `home-${userName}`, type: 'home', display: 'Home' },
    ]);
  });

  describe('active', () => {
    it('shows a user created without active as active, and keeps what it was through a PUT or PATCH that omits or clears it', async () => {
      // Found by an audit (2026-12-07): such a user matched `active eq true` and logged in, but no read
      // showed `active` (Okta's checks read it back).
      const made = await t.http
        .post('/scim/v2/Users')
        .set(t.auth)
        .send({ schemas: [USER], userName: `no-active-${kind}-${adapter}` });
      expect([made.status, made.body.active]).toEqual([201, true]);
      const at = `/scim/v2/Users/${made.body.id}`;
      expect((await t.http.get(at).set(t.auth)).body.active).toBe(true);
      const listed = await t.http
        .get('/scim/v2/Users')
        .set(t.auth)
        .query({ filter: `userName eq "no-active-${kind}-${adapter}"` });
      expect(listed.body.Resources[0].active).toBe(true);
      // Removing `active` from an active user changes nothing: it counts as active either way.
      const removed = await t.http
        .patch(at)
        .set(t.auth)
        .send({ schemas: [PATCH_OP], Operations: [{ op: 'remove', path: 'active' }] });
      expect(removed.status).toBeLessThan(300);
      expect((await t.http.get(at).set(t.auth)).body).toMatchObject({ active: true, meta: { version: 'W/"1"' } });
      // Deactivated, then a PUT without `active`: still deactivated.
      await t.http
        .patch(at)
        .set(t.auth)
        .send({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] });
      const put = await t.http
        .put(at)
        .set(t.auth)
        .send({ schemas: [USER], userName: `no-active-${kind}-${adapter}`, title: 'T' });
      expect([put.status, put.body.active, put.body.title]).toEqual([200, false, 'T']);
    });
  });

  describe('numbers sent for strings', () => {
    it('keeps a number as its text, and refuses one too long to keep exactly instead of storing other digits', async () => {
      // Found by an audit (2026-12-07): 112233445566778899001 was stored as "112233445566778900000", and the
      // IdP's lookup by its own digits found nobody.
      const raw = (body: string) => t.http.post('/scim/v2/Users').set(t.auth).set('content-type', 'application/scim+json').send(body);
      const kept = await raw(`{"schemas":["${USER}"],"userName":"numbers-${kind}-${adapter}","externalId":9007199254740991}`);
      expect(kept.status).toBe(201);
      expect(kept.body.externalId).toBe('9007199254740991');
      for (const [key, value] of [
        ['externalId', '112233445566778899001'],
        ['externalId', '9007199254740993'],
        ['displayName', '-9007199254740993'],
      ]) {
        const refused = await raw(`{"schemas":["${USER}"],"userName":"unsafe-${kind}-${adapter}","${key}":${value}}`);
        expect([refused.status, refused.body.scimType], `${key}: ${value}`).toEqual([400, 'invalidValue']);
        expect(refused.body.detail).toBe(`${key} is a number too long to keep exactly (past 2^53 - 1); send it as a string`);
      }
      const patched = await t.http
        .patch(`/scim/v2/Users/${kept.body.id}`)
        .set(t.auth)
        .set('content-type', 'application/scim+json')
        .send(`{"schemas":["${PATCH_OP}"],"Operations":[{"op":"replace","value":{"${ENTERPRISE}":{"employeeNumber":112233445566778899001}}}]}`);
      expect([patched.status, patched.body.scimType]).toEqual([400, 'invalidValue']);
      expect((await t.http.get(`/scim/v2/Users/${kept.body.id}`).set(t.auth)).body.meta.version).toBe('W/"1"');
    });
  });

  describe('authentication', () => {
    it('answers a request without a token with 401 and a SCIM error body', async () => {
      const res = await t.http.get('/scim/v2/Users');
      expect(res.status).toBe(401);
      expect(res.headers['content-type']).toMatch(SCIM_JSON);
      expect(res.body).toMatchObject({ schemas: [ERROR], status: '401' });
      expect(res.body.detail).toMatch(/bearer/i);
    });

    it('answers a wrong token and a non-bearer scheme with 401', async () => {
      for (const header of ['Bearer nope', 'non-token', `Basic ${t.token}`]) {
        const res = await t.http.get('/scim/v2/Users').set('Authorization', header);
        expect(res.status).toBe(401);
        expect(res.body.status).toBe('401');
      }
    });

    it('accepts the bearer scheme in any case', async () => {
      const res = await t.http.get('/scim/v2/Users').set('Authorization', `bearer ${t.token}`);
      expect(res.status).toBe(200);
    });
  });

  describe('create', () => {
    it('reads an enterprise attribute named without its URN as that attribute everywhere: bodies, PATCH, filter, attributes, excludedAttributes, sortBy', async () => {
      const user = await create('unqualified.enterprise@example.com', { department: 'ViaPost', manager: { value: 'm-1' }, employeeNumber: 'E-77' });
      expect(user.schemas).toEqual([USER, ENTERPRISE]);
      expect([user.department, user.manager, user[ENTERPRISE]]).toEqual([
        undefined,
        undefined,
        { department: 'ViaPost', manager: { value: 'm-1' }, employeeNumber: 'E-77' },
      ]);
      const patched = await t.http
        .patch(`/scim/v2/Users/${user.id}?attributes=department`)
        .set(t.auth)
        .send({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'department', value: 'ViaPatch' }] });
      expect([patched.status, patched.body[ENTERPRISE]]).toEqual([200, { department: 'ViaPatch' }]);
      const put = await t.http
        .put(`/scim/v2/Users/${user.id}`)
        .set(t.auth)
        .send({ ...oktaUser(user.userName as string), department: 'ViaPut', employeeNumber: 'E-77' });
      expect([put.status, put.body.department, put.body[ENTERPRISE]]).toEqual([200, undefined, { department: 'ViaPut', employeeNumber: 'E-77' }]);
      const found = async (query: Record<string, string>) => (await t.http.get('/scim/v2/Users').set(t.auth).query(query)).body as Record<string, any>;
      expect((await found({ filter: 'employeeNumber eq "E-77"' })).Resources.map((u: { id: string }) => u.id)).toEqual([user.id]);
      expect((await found({ filter: `id eq "${user.id}"`, attributes: 'employeeNumber' })).Resources).toEqual([
        { schemas: [USER, ENTERPRISE], id: user.id, [ENTERPRISE]: { employeeNumber: 'E-77' } },
      ]);
      const excluded = (await found({ filter: `id eq "${user.id}"`, excludedAttributes: 'department' })).Resources[0];
      expect(excluded[ENTERPRISE]).toEqual({ employeeNumber: 'E-77' });
      expect((await found({ filter: 'userName sw "unqualified.enterprise"', sortBy: 'employeeNumber' })).totalResults).toBe(1);
      // Named both ways in one body (as a resource an earlier version stored reads): the bare one stays an
      // unknown top-level attribute, and the attribute's paths reach the extension's.
      const both = await t.http
        .post('/scim/v2/Users')
        .set(t.auth)
        .send(oktaUser('both.ways@example.com', { department: 'A', [ENTERPRISE]: { department: 'B' } }));
      expect([both.status, both.body.department, both.body[ENTERPRISE]]).toEqual([201, 'A', { department: 'B' }]);
      const qualified = await t.http
        .post('/scim/v2/Users')
        .set(t.auth)
        .send(oktaUser('both.qualified@example.com', { department: 'A', [`${ENTERPRISE}:department`]: 'B' }));
      expect([qualified.status, qualified.body.department, qualified.body[ENTERPRISE]]).toEqual([201, 'A', { department: 'B' }]);
    });

    it('stores an empty string as no value outside multi-valued entries, on POST, PUT and PATCH alike (docs/idp-behaviour.md rule 15)', async () => {
      const empty = {
        title: '',
        nickName: '',
        name: { givenName: '', familyName: 'Kept', middleName: '' },
        [ENTERPRISE]: { department: '', manager: { value: '' }, costCenter: 'CC1' },
        customString: '',
      };
      const user = await create('empty.values@example.com', { schemas: [USER, ENTERPRISE], ...empty });
      const shown = (body: Record<string, any>) => [body.title, body.nickName, body.name, body[ENTERPRISE], body.customString];
      expect(shown(user)).toEqual([undefined, undefined, { familyName: 'Kept' }, { costCenter: 'CC1' }, undefined]);
      const put = await t.http
        .put(`/scim/v2/Users/${user.id}`)
        .set(t.auth)
        .send({ ...oktaUser(user.userName as string), schemas: [USER, ENTERPRISE], ...empty, title: '' });
      expect(put.status).toBe(200);
      expect(shown(put.body)).toEqual([undefined, undefined, { familyName: 'Kept' }, { costCenter: 'CC1' }, undefined]);
      // A PATCH writing "" into a complex value leaves no empty sub-attribute, and a manager of "" is no manager.
      const patched = await t.http
        .patch(`/scim/v2/Users/${user.id}?attributes=name,${ENTERPRISE}`)
        .set(t.auth)
        .send({
          schemas: [PATCH_OP],
          Operations: [
            { op: 'replace', path: 'name', value: { familyName: '', givenName: 'Given' } },
            { op: 'replace', path: `${ENTERPRISE}:manager`, value: { value: '' } },
          ],
        });
      expect(patched.status).toBe(200);
      expect([patched.body.name, patched.body[ENTERPRISE]]).toEqual([{ givenName: 'Given' }, { costCenter: 'CC1' }]);
      // Merging a complex value clears only what it sends empty, on replace and add, with a path or without.
      for (const operation of [
        { op: 'replace', path: 'name', value: { givenName: '' } },
        { op: 'add', path: 'name', value: { givenName: '' } },
        { op: 'add', value: { name: { givenName: '' } } },
      ]) {
        await t.http
          .patch(`/scim/v2/Users/${user.id}`)
          .set(t.auth)
          .send({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'name', value: { givenName: 'G', familyName: 'F' } }] });
        const merged = await t.http
          .patch(`/scim/v2/Users/${user.id}?attributes=name`)
          .set(t.auth)
          .send({ schemas: [PATCH_OP], Operations: [operation] });
        expect([merged.status, merged.body.name], JSON.stringify(operation)).toEqual([200, { familyName: 'F' }]);
      }
      // Clearing a reference's value clears the reference (its displayName named the old one).
      for (const operation of [
        { op: 'replace', path: `${ENTERPRISE}:manager`, value: { value: '' } },
        { op: 'add', path: 'manager', value: { value: '' } },
      ]) {
        await t.http
          .patch(`/scim/v2/Users/${user.id}`)
          .set(t.auth)
          .send({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'manager', value: { value: 'm-1', displayName: 'Boss' } }] });
        const cleared = await t.http
          .patch(`/scim/v2/Users/${user.id}?attributes=${ENTERPRISE}`)
          .set(t.auth)
          .send({ schemas: [PATCH_OP], Operations: [operation] });
        expect([cleared.status, cleared.body[ENTERPRISE]], JSON.stringify(operation)).toEqual([200, { costCenter: 'CC1' }]);
      }
      // A bare "" is no value for any attribute, multi-valued ones included (`manager: ""`, `active: ""`, `emails: ""`).
      const bareList = await create('empty.list@example.com', { emails: '', phoneNumbers: '' });
      expect([bareList.emails, bareList.phoneNumbers]).toEqual([undefined, undefined]);
      const bare = await create('empty.bare@example.com', { schemas: [USER, ENTERPRISE], [ENTERPRISE]: { manager: '', department: 'D' }, active: '' });
      // `active: ""` is no value, and a user created without `active` is stored active (settleActive).
      expect([bare[ENTERPRISE], bare.active]).toEqual([{ department: 'D' }, true]);
      // Inside a multi-valued entry the empty string is the entry's own to judge; a required one sent empty is refused.
      const refused = await t.http
        .post('/scim/v2/Users')
        .set(t.auth)
        .send(oktaUser('', { emails: [] }));
      expect([refused.status, refused.body.scimType]).toEqual([400, 'invalidValue']);
    });

    it("stores no manager from OneLogin's template for a user without one, and clears a real one with it (rule 7)", async () => {
      // Its two name placeholders, empty, leave a displayName of one space beside an empty value.
      const blank = { value: '', displayName: ' ' };
      const created = await create('no.manager@example.com', { schemas: [USER, ENTERPRISE], [ENTERPRISE]: { manager: blank, department: 'D' } });
      expect(created[ENTERPRISE]).toEqual({ department: 'D' });
      const managed = await create('managed@example.com', { schemas: [USER, ENTERPRISE], [ENTERPRISE]: { manager: { value: 'boss-id', displayName: 'Bob' } } });
      const cleared = await t.http
        .patch(`/scim/v2/Users/${managed.id}`)
        .set(t.auth)
        .send({ schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { [ENTERPRISE]: { manager: blank } } }] });
      expect(cleared.status).toBe(204);
      expect((await t.http.get(`/scim/v2/Users/${managed.id}`).set(t.auth)).body[ENTERPRISE]).toBeUndefined();
      const found = await t.http
        .get('/scim/v2/Users')
        .query({ filter: `${ENTERPRISE}:manager pr` })
        .set(t.auth);
      expect(found.body.totalResults).toBe(0);
      // A displayName sent without a value is kept, as sent (README, deviations).
      const named = await create('named.manager@example.com', { schemas: [USER, ENTERPRISE], [ENTERPRISE]: { manager: { displayName: 'Bob' } } });
      expect(named[ENTERPRISE]).toEqual({ manager: { displayName: 'Bob' } });
    });

    it('leaves out entries of multi-valued attributes that hold no data, on POST, PUT and PATCH alike (docs/idp-behaviour.md rule 21)', async () => {
      // OneLogin's templates send placeholders left empty for a user without an email, a phone or an address.
      const placeholders = {
        emails: [
          { value: '', type: 'work', primary: true },
          { value: 'real@example.com', type: 'home', primary: true },
        ],
        phoneNumbers: [{ value: '', type: 'work' }],
        addresses: [{ locality: '', region: '', country: '', type: 'work', primary: true }],
        ims: [''],
      };
      const user = await create('placeholders@example.com', placeholders);
      const lists = (body: Record<string, any>) => [body.emails, body.phoneNumbers, body.addresses, body.ims];
      // The real email is the primary one: the empty entry never took it.
      expect(lists(user)).toEqual([[{ value: 'real@example.com', type: 'home', primary: true }], undefined, undefined, undefined]);
      const put = await t.http
        .put(`/scim/v2/Users/${user.id}`)
        .set(t.auth)
        .send({ ...oktaUser(user.userName as string), ...placeholders });
      expect([put.status, ...lists(put.body)]).toEqual([200, [{ value: 'real@example.com', type: 'home', primary: true }], undefined, undefined, undefined]);
      // A PATCH clearing or removing an entry's value leaves no entry behind; one adding an empty entry adds nothing.
      const patch = (Operations: object[]) =>
        t.http
          .patch(`/scim/v2/Users/${user.id}?attributes=emails,phoneNumbers,addresses`)
          .set(t.auth)
          .send({ schemas: [PATCH_OP], Operations });
      const setUp = await patch([
        {
          op: 'add',
          path: 'phoneNumbers',
          value: [
            { value: '+1 555 0100', type: 'work' },
            { value: '+1 555 0199', type: 'mobile' },
          ],
        },
        { op: 'add', path: 'addresses', value: [{ locality: 'Lyon', type: 'work' }] },
      ]);
      expect(setUp.status).toBe(200);
      const cleared = await patch([
        { op: 'replace', path: 'emails[type eq "home"].value', value: '' },
        { op: 'remove', path: 'phoneNumbers[type eq "work"].value' },
        { op: 'replace', path: 'addresses[type eq "work"].locality', value: '' },
        { op: 'add', path: 'emails', value: [{ value: '', type: 'other' }] },
      ]);
      expect([cleared.status, cleared.body.emails, cleared.body.phoneNumbers, cleared.body.addresses]).toEqual([
        200,
        undefined,
        [{ value: '+1 555 0199', type: 'mobile' }],
        undefined,
      ]);
      // Entries are judged once every operation has applied: one added empty and filled by a later operation
      // of the same PATCH keeps what it was added with.
      const filled = await patch([
        { op: 'add', path: 'emails', value: [{ type: 'work', primary: true }] },
        { op: 'replace', path: 'emails[type eq "work"].value', value: 'filled@example.com' },
      ]);
      expect([filled.status, filled.body.emails]).toEqual([200, [{ type: 'work', primary: true, value: 'filled@example.com' }]]);
      // An entry a PATCH adds empty, and no later operation fills, takes primary from no one (it took it before).
      const placeholder = await patch([{ op: 'add', path: 'emails', value: [{ value: '', type: 'home', primary: true }] }]);
      expect([placeholder.status, placeholder.body.emails]).toEqual([200, [{ type: 'work', primary: true, value: 'filled@example.com' }]]);
      // A group's member sent without a value is still refused, never silently dropped.
      const group = await t.http
        .post('/scim/v2/Groups')
        .set(t.auth)
        .send({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Placeholders', members: [{ value: '' }] });
      expect([group.status, group.body.scimType]).toEqual([400, 'invalidValue']);
    });

    it('keeps primary true on the first value only (RFC 7643 §2.4), on POST and PUT as a PATCH does', async () => {
      const emails = [
        { value: 'one@example.com', type: 'work', primary: true },
        { value: 'two@example.com', type: 'home', primary: 'True' },
        { value: 'three@example.com', type: 'other' },
      ];
      const user = await create('two.primaries@example.com', { emails });
      const primaries = (list: { primary?: boolean }[]) => list.map((e) => e.primary);
      expect(primaries(user.emails)).toEqual([true, false, undefined]);
      const put = await t.http
        .put(`/scim/v2/Users/${user.id}`)
        .set(t.auth)
        .send({ userName: user.userName, emails: [emails[2], { ...emails[1], primary: true }, emails[0]] });
      expect(put.status).toBe(200);
      expect(primaries(put.body.emails)).toEqual([undefined, true, false]);
    });

    it('builds Location from the Host header, and from localhost when there is none (HTTP/1.0) or it is malformed', async () => {
      /** One raw HTTP request on its own connection; answers its status line and Location header. */
      const raw = (head: string, body: string) =>
        new Promise<string>((resolve, reject) => {
          const socket = connect(Number(new URL(t.origin).port), '127.0.0.1', () =>
            socket.write(`${head}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`),
          );
          let answer = '';
          socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
          socket.on('end', () => resolve(answer));
          socket.on('error', reject);
        });
      const post = (version: string, host: string | null, userName: string) =>
        raw(
          [
            `POST /scim/v2/Users HTTP/${version}`,
            ...(host === null ? [] : [`Host: ${host}`]),
            `Authorization: ${t.auth.Authorization}`,
            'Content-Type: application/scim+json',
            'Connection: close',
          ].join('\r\n'),
          JSON.stringify(oktaUser(userName)),
        );
      const location = (answer: string) => /\r\nlocation: ([^\r]*)/i.exec(answer)?.[1];
      expect(location(await post('1.0', null, 'no.host@example.com'))).toMatch(/^http:\/\/localhost\/scim\/v2\/Users\/[0-9a-f-]{36}$/);
      expect(location(await post('1.1', 'evil.example/x?', 'bad.host@example.com'))).toMatch(/^http:\/\/localhost\/scim\/v2\/Users\/[0-9a-f-]{36}$/);
      expect(location(await post('1.1', 'app.example:8443', 'good.host@example.com'))).toMatch(/^http:\/\/app\.example:8443\/scim\/v2\/Users\/[0-9a-f-]{36}$/);
    });

    it('creates a user with 201, Location, ETag and the full resource', async () => {
      const res = await t.http
        .post('/scim/v2/Users')
        .set(t.auth)
        .set('Content-Type', 'application/scim+json; charset=utf-8')
        .send(JSON.stringify(oktaUser('create.one@example.com')));
      expect(res.status).toBe(201);
      expect(res.headers['content-type']).toMatch(SCIM_JSON);
      expect(res.headers.location).toBe(res.body.meta.location);
      expect(res.headers.location).toMatch(new RegExp(`/scim/v2/Users/${res.body.id}$`));
      expect(res.headers.etag).toBe(res.body.meta.version);
      expect(res.body).toMatchObject({
        schemas: [USER],
        userName: 'create.one@example.com',
        active: true,
        name: { givenName: 'Test', familyName: 'User' },
        meta: { resourceType: 'User' },
      });
      expect(res.body.id).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('never stores or returns the password Okta always sends, nor the groups it sends', async () => {
      const user = await create('password.check@example.com');
      expect(user).not.toHaveProperty('password');
      const res = await t.http.get(`/scim/v2/Users/${user.id}`).set(t.auth);
      expect(JSON.stringify(res.body)).not.toContain('placeholder-Secret1');
      expect(res.body).not.toHaveProperty('groups');
    });

    it('accepts application/json as well as application/scim+json', async () => {
      const res = await t.http
        .post('/scim/v2/Users')
        .set(t.auth)
        .set('Content-Type', 'application/json')
        .send(JSON.stringify(oktaUser('json.type@example.com')));
      expect(res.status).toBe(201);
    });

    it('refuses a body that is not JSON with 415 or 400 invalidSyntax', async () => {
      const plain = await t.http.post('/scim/v2/Users').set(t.auth).set('Content-Type', 'text/plain').send('hello');
      expect(plain.status).toBe(415);
      expect(plain.body.schemas).toEqual([ERROR]);
      const broken = await t.http.post('/scim/v2/Users').set(t.auth).set('Content-Type', 'application/scim+json').send('{"acve": tre,');
      expect(broken.status).toBe(400);
      expect(broken.body).toMatchObject({ status: '400', scimType: 'invalidSyntax' });
    });

    it('refuses a compressed body with 415 naming its Content-Encoding, and creates nothing', async () => {
      const userName = 'gzipped@example.com';
      const res = await fetch(`${t.origin}/scim/v2/Users`, {
        method: 'POST',
        headers: { ...t.auth, 'Content-Type': 'application/scim+json', 'Content-Encoding': 'gzip' },
        body: gzipSync(JSON.stringify(oktaUser(userName))),
      });
      expect(res.status).toBe(415);
      expect(await res.json()).toMatchObject({ schemas: [ERROR], status: '415', detail: expect.stringMatching(/Content-Encoding: gzip/) });
      const found = await t.http
        .get('/scim/v2/Users')
        .query({ filter: `userName eq "${userName}"` })
        .set(t.auth);
      expect(found.body.totalResults).toBe(0);
      // `identity` is no encoding at all.
      const identity = await t.http.post('/scim/v2/Users').set(t.auth).set('Content-Encoding', 'identity').send(oktaUser(userName));
      expect(identity.status).toBe(201);
    });

    it('refuses a body with a transfer coding other than chunked with 415 naming it', async () => {
      const answer = await rawHttp(
        t.origin,
        'POST /scim/v2/Users HTTP/1.1',
        { ...t.auth, 'Content-Type': 'application/scim+json', 'Transfer-Encoding': 'gzip, chunked' },
        'a\r\n0123456789\r\n0\r\n\r\n',
      );
      expect(answer).toMatch(/^HTTP\/1\.1 415 /);
      expect(answer).toContain('Transfer-Encoding: gzip');
    });

    it('refuses invalid UTF-8 with 400 invalidSyntax', async () => {
      const body = Buffer.concat([Buffer.from('{"userName":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
      const res = await fetch(`${t.origin}/scim/v2/Users`, {
        method: 'POST',
        headers: { ...t.auth, 'Content-Type': 'application/scim+json' },
        body,
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ scimType: 'invalidSyntax', detail: 'the request body is not valid UTF-8' });
    });

    it('requires userName', async () => {
      const res = await t.http
        .post('/scim/v2/Users')
        .set(t.auth)
        .send({ schemas: [USER], active: true });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ scimType: 'invalidValue' });
      expect(res.body.detail).toContain('userName');
    });

    it('answers a duplicate userName, compared case-insensitively, with 409 uniqueness', async () => {
      await create('Dup.User@Example.com');
      const res = await t.http.post('/scim/v2/Users').set(t.auth).send(oktaUser('dup.user@example.COM'));
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({ schemas: [ERROR], status: '409', scimType: 'uniqueness' });
      expect(res.body.detail).toContain('userName');
    });

    it('does not enforce externalId uniqueness (Microsoft creates several users with one externalId)', async () => {
      await create('ext.a@example.com', { externalId: 'shared-ext' });
      await create('ext.b@example.com', { externalId: 'shared-ext' });
      const res = await t.http.get('/scim/v2/Users').query({ filter: 'externalId eq "shared-ext"' }).set(t.auth);
      expect(res.body.totalResults).toBe(2);
    });

    it('normalises attribute-name case, "True" strings and single-object emails, and keeps unknown attributes as sent', async () => {
      const res = await t.http
        .post('/scim/v2/Users')
        .set(t.auth)
        .send({
          schemas: [USER, ENTERPRISE],
          UserName: 'normalise@example.com',
          Active: 'True',
          emails: { Value: 'normalise@example.com', Primary: 'true', type: 'work' },
          [ENTERPRISE]: { Department: 'Sales', Manager: { Value: 'mgr-1' } },
          favouriteColour: 'Teal',
        });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        userName: 'normalise@example.com',
        active: true,
        emails: [{ value: 'normalise@example.com', primary: true, type: 'work' }],
        [ENTERPRISE]: { department: 'Sales', manager: { value: 'mgr-1' } },
        favouriteColour: 'Teal',
      });
      expect(res.body.schemas).toEqual([USER, ENTERPRISE]);
    });

    it("lists only its own type's schemas: a described schema of another type and message schemas are dropped, other URNs kept", async () => {
      const custom = 'urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User';
      const res = await t.http
        .post('/scim/v2/Users')
        .set(t.auth)
        .send({
          schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group', 'urn:ietf:params:scim:api:messages:2.0:PatchOp', USER, custom],
          userName: 'schemas-of-another-type@example.com',
          [custom]: { CustomAttribute: 'x' },
        });
      expect(res.status).toBe(201);
      expect(res.body.schemas).toEqual([USER, custom]);
      expect((await t.http.get(`/scim/v2/Users/${res.body.id}`).set(t.auth)).body.schemas).toEqual([USER, custom]);
    });

    it("refuses attributes under another resource type's schema with 400 invalidValue, and stores nothing", async () => {
      const group = 'urn:ietf:params:scim:schemas:core:2.0:Group';
      const user = await t.http
        .post('/scim/v2/Users')
        .set(t.auth)
        .send({ schemas: [USER], userName: 'foreign-schema@example.com', [group]: { displayName: 'x' } });
      expect([user.status, user.body.scimType]).toEqual([400, 'invalidValue']);
      expect(user.body.detail).toContain(group);
      const qualified = await t.http
        .post('/scim/v2/Users')
        .set(t.auth)
        .send({ schemas: [USER], userName: 'foreign-schema@example.com', [`${group}:displayName`]: 'x' });
      expect([qualified.status, qualified.body.scimType]).toEqual([400, 'invalidValue']);
      const onGroup = await t.http
        .post('/scim/v2/Groups')
        .set(t.auth)
        .send({ schemas: [group, ENTERPRISE], displayName: 'Foreign Schema Group', [ENTERPRISE]: { employeeNumber: '1' } });
      expect([onGroup.status, onGroup.body.scimType]).toEqual([400, 'invalidValue']);
      const found = await t.http.get('/scim/v2/Users').query({ filter: 'userName eq "foreign-schema@example.com"' }).set(t.auth);
      expect(found.body.totalResults).toBe(0);
    });

    it('refuses a boolean attribute that is not a boolean', async () => {
      const res = await t.http
        .post('/scim/v2/Users')
        .set(t.auth)
        .send(oktaUser('bad.bool@example.com', { active: 'maybe' }));
      expect(res.status).toBe(400);
      expect(res.body.scimType).toBe('invalidValue');
    });

    it('answers a body over the size limit with 413', async () => {
      const huge = oktaUser('huge@example.com', { blob: 'x'.repeat(1_100_000) });
      const res = await t.http.post('/scim/v2/Users').set(t.auth).send(huge);
      expect(res.status).toBe(413);
      expect(res.body).toMatchObject({ schemas: [ERROR], status: '413' });
    });
  });

  describe('read, replace, patch, delete', () => {
    it('reads a user by id and answers an unknown id with 404 and a SCIM error', async () => {
      const user = await create('read.me@example.com');
      const res = await t.http.get(`/scim/v2/Users/${user.id}`).set(t.auth);
      expect(res.status).toBe(200);
      expect(res.body).toEqual(user);
      const missing = await t.http.get('/scim/v2/Users/010101001010101011001010101011').set(t.auth);
      expect(missing.status).toBe(404);
      expect(missing.body).toMatchObject({ schemas: [ERROR], status: '404' });
      expect(missing.body.detail).toBeTruthy();
      // A detail quoting what the client sent is clipped: a 10,000-character id is not echoed back whole.
      const long = await t.http.get(`/scim/v2/Users/${'x'.repeat(10_000)}`).set(t.auth);
      expect(long.status).toBe(404);
      expect(long.body.detail.length).toBeLessThanOrEqual(1_000);
      expect(long.body.detail).toMatch(/^User x+… \(\d+ characters\)$/);
    });

    it('replaces a user with PUT, ignoring id, meta and groups in the body, keeping created', async () => {
      const user = await create('put.me@example.com');
      const res = await t.http
        .put(`/scim/v2/Users/${user.id}`)
        .set(t.auth)
        .send({
          ...user,
          id: 'something-else',
          meta: { created: '2000-01-01T00:00:00Z' },
          groups: [],
          displayName: 'Replaced',
          name: { formatted: 'New Name' },
        });
      expect(res.status).toBe(200);
      expect(res.body.id).toBe(user.id);
      expect(res.body.displayName).toBe('Replaced');
      expect(res.body.name).toEqual({ formatted: 'New Name' });
      expect(res.body.meta.created).toBe(user.meta.created);
      expect(res.body.meta.version).not.toBe(user.meta.version);
    });

    it('refuses a PUT without userName and changes nothing', async () => {
      const user = await create('put.bad@example.com');
      const res = await t.http.put(`/scim/v2/Users/${user.id}`).set(t.auth).send({ userame: 'typo', active: false });
      expect(res.status).toBe(400);
      const after = await t.http.get(`/scim/v2/Users/${user.id}`).set(t.auth);
      expect(after.body).toEqual(user);
    });

    it('deactivates with Entra\'s PATCH (capitalised op, "False" string) and answers 204', async () => {
      const user = await create('entra.off@example.com');
      const res = await t.http
        .patch(`/scim/v2/Users/${user.id}`)
        .set(t.auth)
        .send({ schemas: [PATCH_OP], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] });
      expect(res.status).toBe(204);
      expect(res.text).toBe('');
      const after = await t.http.get(`/scim/v2/Users/${user.id}`).set(t.auth);
      expect(after.body.active).toBe(false);
    });

    it("deactivates with Okta's path-less PATCH and returns the resource when attributes are asked for", async () => {
      const user = await create('okta.off@example.com');
      const res = await t.http
        .patch(`/scim/v2/Users/${user.id}`)
        .query({ attributes: 'active,userName' })
        .set(t.auth)
        .send({ schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: false } }] });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ schemas: [USER], id: user.id, userName: 'okta.off@example.com', active: false });
    });

    it('applies a PATCH atomically: a failing operation leaves the user unchanged', async () => {
      const user = await create('atomic@example.com');
      const res = await t.http
        .patch(`/scim/v2/Users/${user.id}`)
        .set(t.auth)
        .send({
          schemas: [PATCH_OP],
          Operations: [{ op: 'replace', path: 'displayName', value: 'Changed' }, { op: 'remove' }],
        });
      expect(res.status).toBe(400);
      expect(res.body.scimType).toBe('noTarget');
      const after = await t.http.get(`/scim/v2/Users/${user.id}`).set(t.auth);
      expect(after.body).toEqual(user);
    });

    it('refuses a PATCH that would rename a user onto a taken userName', async () => {
      await create('taken@example.com');
      const user = await create('renamer@example.com');
      const res = await t.http
        .patch(`/scim/v2/Users/${user.id}`)
        .set(t.auth)
        .send({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'userName', value: 'TAKEN@example.com' }] });
      expect(res.status).toBe(409);
      expect(res.body.scimType).toBe('uniqueness');
    });

    it('deletes with 204 and then answers 404 to every method on that id, and omits it from lists', async () => {
      const user = await create('delete.me@example.com');
      expect((await t.http.delete(`/scim/v2/Users/${user.id}`).set(t.auth)).status).toBe(204);
      expect((await t.http.get(`/scim/v2/Users/${user.id}`).set(t.auth)).status).toBe(404);
      expect((await t.http.put(`/scim/v2/Users/${user.id}`).set(t.auth).send(oktaUser('delete.me@example.com'))).status).toBe(404);
      expect(
        (
          await t.http
            .patch(`/scim/v2/Users/${user.id}`)
            .set(t.auth)
            .send({ schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: true } }] })
        ).status,
      ).toBe(404);
      expect((await t.http.delete(`/scim/v2/Users/${user.id}`).set(t.auth)).status).toBe(404);
      const list = await t.http.get('/scim/v2/Users').query({ filter: 'userName eq "delete.me@example.com"' }).set(t.auth);
      expect(list.body.totalResults).toBe(0);
    });

    it('honours If-Match: a stale version gets 412 and changes nothing', async () => {
      const user = await create('etag@example.com');
      const ok = await t.http
        .patch(`/scim/v2/Users/${user.id}`)
        .set(t.auth)
        .set('If-Match', user.meta.version)
        .send({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'nickName', value: 'one' }] });
      expect(ok.status).toBe(204);
      const stale = await t.http
        .patch(`/scim/v2/Users/${user.id}`)
        .set(t.auth)
        .set('If-Match', user.meta.version)
        .send({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'nickName', value: 'two' }] });
      expect(stale.status).toBe(412);
      expect(stale.body.status).toBe('412');
      const after = await t.http.get(`/scim/v2/Users/${user.id}`).set(t.auth);
      expect(after.body.nickName).toBe('one');
    });

    it('retries a write that lost a race under If-Match: * (any current version), as DELETE does, instead of answering 412', async () => {
      const user = await create('etag-star@example.com');
      const star = (request: ReturnType<typeof t.http.patch>) => request.set(t.auth).set('If-Match', '*');
      const patches = await Promise.all(
        [1, 2, 3, 4, 5, 6].map((i) =>
          star(t.http.patch(`/scim/v2/Users/${user.id}`)).send({ schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'nickName', value: `n${i}` }] }),
        ),
      );
      expect(patches.map((r) => r.status)).toEqual([204, 204, 204, 204, 204, 204]);
      const puts = await Promise.all(
        [1, 2, 3, 4].map((i) => star(t.http.put(`/scim/v2/Users/${user.id}`)).send({ ...oktaUser('etag-star@example.com'), title: `t${i}` })),
      );
      expect(puts.map((r) => r.status)).toEqual([200, 200, 200, 200]);
      const after = await t.http.get(`/scim/v2/Users/${user.id}`).set(t.auth);
      expect(/^W\/"(\d+)"$/.exec(after.body.meta.version)![1]).toBe(String(1 + 6 + 4)); // every write landed once
      // A listed ETag still holds a write to the version it named: of writes racing from one version, one wins.
      const pinned = await Promise.all(
        [1, 2, 3].map((i) =>
          t.http
            .patch(`/scim/v2/Users/${user.id}`)
            .set(t.auth)
            .set('If-Match', after.body.meta.version)
            .send({ schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'nickName', value: `p${i}` }] }),
        ),
      );
      expect(pinned.map((r) => r.status).sort()).toEqual([204, 412, 412]);
    });

    it('answers If-None-Match with 304 for *, the weak ETag and its strong form, and 200 for another version', async () => {
      const user = await create('if-none-match@example.com');
      const conditional = (tag: string) => t.http.get(`/scim/v2/Users/${user.id}`).set(t.auth).set('If-None-Match', tag);
      const version = /^W\/"(\d+)"$/.exec(user.meta.version)![1];
      for (const tag of ['*', user.meta.version, `"${version}"`, `W/"999", ${user.meta.version}`]) {
        const res = await conditional(tag);
        expect(res.status, tag).toBe(304);
        expect(res.headers.etag, tag).toBe(user.meta.version);
      }
      for (const tag of ['W/"999"', '"999"', `W/"${version}0"`]) expect((await conditional(tag)).status, tag).toBe(200);
    });

    it('answers a GET or HEAD whose If-Match lists no current ETag with 412 (RFC 9110 §13.1.1), and reads it otherwise; an empty attributes= on PATCH is none', async () => {
      const user = await create('if-match-read@example.com');
      for (const method of ['get', 'head'] as const) {
        const conditional = (tag: string) => t.http[method](`/scim/v2/Users/${user.id}`).set(t.auth).set('If-Match', tag);
        for (const tag of ['W/"999"', '"999"']) {
          const res = await conditional(tag);
          expect(res.status, `${method} ${tag}`).toBe(412);
          if (method === 'get') expect(res.body, tag).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '412' });
        }
        for (const tag of ['*', user.meta.version, `W/"999", ${user.meta.version}`]) expect((await conditional(tag)).status, `${method} ${tag}`).toBe(200);
      }
      // A PATCH answers 204 unless attributes are asked for: an empty parameter asks for none.
      const patch = (value: string) => ({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'nickName', value }] });
      for (const query of ['?attributes=', '?excludedAttributes=', '?attributes=&excludedAttributes=']) {
        expect((await t.http.patch(`/scim/v2/Users/${user.id}${query}`).set(t.auth).send(patch('x'))).status, query).toBe(204);
      }
      expect((await t.http.patch(`/scim/v2/Users/${user.id}?attributes=nickName`).set(t.auth).send(patch('y'))).body).toMatchObject({ nickName: 'y' });
      // If-Match is checked first: a stale If-Match is a 412 even where If-None-Match alone would be a 304.
      const both = await t.http.get(`/scim/v2/Users/${user.id}`).set(t.auth).set('If-Match', 'W/"999"').set('If-None-Match', '*');
      expect(both.status).toBe(412);
    });

    it('refuses a PUT, PATCH or DELETE whose If-None-Match lists the current version or * (412, nothing written), and lets another version through', async () => {
      const user = await create('if-none-match-write@example.com');
      const patch = (value: string) => ({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'nickName', value }] });
      for (const tag of ['*', user.meta.version, `W/"999", ${user.meta.version}`]) {
        const put = await t.http
          .put(`/scim/v2/Users/${user.id}`)
          .set(t.auth)
          .set('If-None-Match', tag)
          .send({ ...oktaUser('if-none-match-write@example.com'), title: 'x' });
        expect(put.status, `PUT ${tag}`).toBe(412);
        expect(put.body.schemas, `PUT ${tag}`).toEqual(['urn:ietf:params:scim:api:messages:2.0:Error']);
        const patched = await t.http.patch(`/scim/v2/Users/${user.id}`).set(t.auth).set('If-None-Match', tag).send(patch('x'));
        expect(patched.status, `PATCH ${tag}`).toBe(412);
        expect((await t.http.delete(`/scim/v2/Users/${user.id}`).set(t.auth).set('If-None-Match', tag)).status, `DELETE ${tag}`).toBe(412);
      }
      const unchanged = await t.http.get(`/scim/v2/Users/${user.id}`).set(t.auth);
      expect(unchanged.body.meta.version).toBe(user.meta.version);
      expect(unchanged.body.title).toBeUndefined();
      const other = await t.http.patch(`/scim/v2/Users/${user.id}`).set(t.auth).set('If-None-Match', 'W/"999"').send(patch('n'));
      expect(other.status).toBe(204);
      const put = await t.http
        .put(`/scim/v2/Users/${user.id}`)
        .set(t.auth)
        .set('If-None-Match', user.meta.version)
        .send({ ...oktaUser('if-none-match-write@example.com'), title: 't' });
      expect(put.status).toBe(200);
      expect(put.body.title).toBe('t');
      expect((await t.http.delete(`/scim/v2/Users/${user.id}`).set(t.auth).set('If-None-Match', user.meta.version)).status).toBe(204);
    });
  });
});
