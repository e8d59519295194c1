import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADAPTERS } from '../support/adapters.js';
import { SCIM_JSON, scimTestApp, type ScimTestApp } from '../support/app.js';

describe.each(ADAPTERS)('SCIM discovery and other endpoints through %s', (adapter) => {
  let t: ScimTestApp;
  beforeAll(async () => {
    t = await scimTestApp('memory', `discovery-${adapter}`, { maxPageSize: 250 }, adapter);
  });
  afterAll(async () => {
    expect(t.unexpected).toEqual([]);
    await t.cleanup();
  });

  it('describes what the server supports truthfully in /ServiceProviderConfig', async () => {
    const res = await t.http.get('/scim/v2/ServiceProviderConfig').set(t.auth);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(SCIM_JSON);
    expect(res.body).toMatchObject({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
      patch: { supported: true },
      // maxOperations is the PATCH operations limit (authentik sends PATCHes of at most that many).
      bulk: { supported: false, maxOperations: 1000, maxPayloadSize: 1_000_000 },
      filter: { supported: true, maxResults: 250 },
      changePassword: { supported: false },
      sort: { supported: true },
      etag: { supported: true },
    });
    expect(res.body.authenticationSchemes[0].type).toBe('oauthbearertoken');
  });

  it('lists the User and Group resource types, and serves each by id', async () => {
    const res = await t.http.get('/scim/v2/ResourceTypes').set(t.auth);
    expect(res.body.Resources.map((r: any) => r.endpoint)).toEqual(['/Users', '/Groups']);
    expect(res.body.totalResults).toBe(2);
    const user = await t.http.get('/scim/v2/ResourceTypes/User').set(t.auth);
    expect(user.body.schemaExtensions).toEqual([{ schema: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User', required: false }]);
    expect((await t.http.get('/scim/v2/ResourceTypes/Device').set(t.auth)).status).toBe(404);
  });

  it('serves the User, enterprise User and Group schemas with attribute definitions, then those of the discovery resources', async () => {
    const res = await t.http.get('/scim/v2/Schemas').set(t.auth);
    expect(res.body.Resources.map((s: any) => s.id)).toEqual([
      'urn:ietf:params:scim:schemas:core:2.0:User',
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
      'urn:ietf:params:scim:schemas:core:2.0:Group',
      'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig',
      'urn:ietf:params:scim:schemas:core:2.0:ResourceType',
      'urn:ietf:params:scim:schemas:core:2.0:Schema',
    ]);
    expect(res.body.totalResults).toBe(6);
    // Every URN a discovery answer carries in `schemas` resolves under /Schemas (RFC 7643 §8.7.2).
    const carried = new Set<string>();
    for (const path of ['/scim/v2/ServiceProviderConfig', '/scim/v2/ResourceTypes/User', '/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:Group']) {
      for (const urn of (await t.http.get(path).set(t.auth)).body.schemas as string[]) carried.add(urn);
    }
    for (const urn of carried) {
      const schema = await t.http.get(`/scim/v2/Schemas/${urn}`).set(t.auth);
      expect([schema.status, schema.body.id], urn).toEqual([200, urn]);
    }
    // What the ServiceProviderConfig answers is what its schema describes, key for key.
    const spc = (await t.http.get('/scim/v2/ServiceProviderConfig').set(t.auth)).body as Record<string, any>;
    const spcSchema = res.body.Resources.find((s: any) => s.id === 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig');
    const described = new Set(['schemas', 'meta', ...spcSchema.attributes.map((a: any) => a.name)]);
    expect(Object.keys(spc).filter((key) => !described.has(key))).toEqual([]);
    const schemeKeys = new Set(spcSchema.attributes.find((a: any) => a.name === 'authenticationSchemes').subAttributes.map((a: any) => a.name));
    for (const scheme of spc.authenticationSchemes) expect(Object.keys(scheme).filter((key) => !schemeKeys.has(key))).toEqual([]);
    const user = await t.http.get('/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User').set(t.auth);
    expect(user.body.name).toBe('User');
    expect(user.body.description).toBe('User Account');
    const userName = user.body.attributes.find((a: any) => a.name === 'userName');
    expect(userName).toMatchObject({ required: true, caseExact: false, uniqueness: 'server' });
    const groups = user.body.attributes.find((a: any) => a.name === 'groups');
    expect(groups.mutability).toBe('readOnly');
    // What the server does: binary values compare case-exactly; a member's display is renamed in place.
    const certificates = user.body.attributes.find((a: any) => a.name === 'x509Certificates');
    expect(certificates.subAttributes.find((a: any) => a.name === 'value')).toMatchObject({ type: 'binary', caseExact: true });
    const group = await t.http.get('/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:Group').set(t.auth);
    const members = group.body.attributes.find((a: any) => a.name === 'members');
    expect(Object.fromEntries(members.subAttributes.map((a: any) => [a.name, a.mutability]))).toEqual({
      value: 'immutable',
      $ref: 'immutable',
      display: 'readWrite',
      type: 'immutable',
    });
  });

  it('names referenceTypes on every reference attribute, at every depth (RFC 7643 §7)', async () => {
    const res = await t.http.get('/scim/v2/Schemas').set(t.auth);
    const references: [string, unknown][] = [];
    const walk = (attributes: any[], prefix: string) => {
      for (const a of attributes) {
        if (a.type === 'reference') references.push([`${prefix}${a.name}`, a.referenceTypes]);
        if (a.subAttributes) walk(a.subAttributes, `${prefix}${a.name}.`);
      }
    };
    for (const schema of res.body.Resources) walk(schema.attributes, `${schema.name}:`);
    expect(references.map(([name]) => name)).toContain('User:photos.value');
    for (const [name, types] of references) {
      expect(Array.isArray(types) && types.length > 0 && types.every((x) => typeof x === 'string'), name).toBe(true);
    }
    expect(Object.fromEntries(references)['User:photos.value']).toEqual(['external']);
  });

  it('answers unsupported endpoints with 501, unknown ones with 404, wrong methods with 405', async () => {
    expect((await t.http.get('/scim/v2/Me').set(t.auth)).status).toBe(501);
    const bulk = await t.http.post('/scim/v2/Bulk').set(t.auth).send({});
    expect(bulk.status).toBe(501);
    expect(bulk.body.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:Error']);
    expect((await t.http.get('/scim/v2/Devices').set(t.auth)).status).toBe(404);
    const post = await t.http.post('/scim/v2/ServiceProviderConfig').set(t.auth).send({});
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    expect((await t.http.delete('/scim/v2/Users').set(t.auth)).status).toBe(405);
  });

  it('answers a filter on a discovery endpoint with 403 (RFC 7644 §4), never a list that seems to match it', async () => {
    for (const path of [
      '/scim/v2/Schemas',
      '/scim/v2/ResourceTypes',
      '/scim/v2/ServiceProviderConfig',
      '/scim/v2/schemas/urn:ietf:params:scim:schemas:core:2.0:User',
    ]) {
      const res = await t.http.get(path).query({ filter: 'id eq "x"' }).set(t.auth);
      expect(res.status, path).toBe(403);
      expect(res.body, path).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '403' });
      expect((await t.http.get(path).set(t.auth)).status, path).toBe(200);
    }
  });

  it('matches resource endpoints case-insensitively and tolerates a trailing slash', async () => {
    expect((await t.http.get('/scim/v2/users').set(t.auth)).status).toBe(200);
    expect((await t.http.get('/scim/v2/Users/').query({ filter: 'userName eq "x"' }).set(t.auth)).status).toBe(200);
  });

  it('passes requests outside basePath on to the app', async () => {
    const res = await t.http.get('/health');
    expect(res.status).toBe(200);
    expect(res.text).toBe('ok');
  });
});
