import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../src/index.js';
import { scimTestApp, type ScimTestApp } from './support/app.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';

describe('the audit trail of SCIM traffic and management calls', () => {
  let t: ScimTestApp;
  const events: AuditEvent[] = [];
  beforeAll(async () => {
    t = await scimTestApp('memory', 'events', { onEvent: (event) => events.push(event) });
  });
  afterAll(async () => {
    await t.cleanup();
  });

  it('emits one event per SCIM write, with who, what, when and the result', async () => {
    events.length = 0;
    const created = await t.http
      .post('/scim/v2/Users')
      .set(t.auth)
      .send({ schemas: [USER], userName: 'audit@example.com', password: 'Secret-Pa55' });
    const id = created.body.id as string;
    await t.http
      .patch(`/scim/v2/Users/${id}`)
      .set(t.auth)
      .send({ Operations: [{ op: 'replace', path: 'nickName', value: 'A' }] });
    await t.http
      .patch(`/scim/v2/Users/${id}`)
      .set(t.auth)
      .send({ Operations: [{ op: 'Replace', path: 'active', value: 'False' }] });
    await t.http
      .patch(`/scim/v2/Users/${id}`)
      .set(t.auth)
      .send({ Operations: [{ op: 'replace', value: { active: true } }] });
    await t.http.delete(`/scim/v2/Users/${id}`).set(t.auth);
    expect(events.map((e) => [e.type, e.status])).toEqual([
      ['user.created', 201],
      ['user.updated', 204],
      ['user.deactivated', 204],
      ['user.reactivated', 204],
      ['user.deleted', 204],
    ]);
    const connection = await t.sso.fetchScimConnection('events-customer');
    for (const event of events) {
      expect(event).toMatchObject({
        actor: 'scim',
        outcome: 'success',
        customerId: 'events-customer',
        connectionId: connection!.connectionId,
        resourceType: 'User',
        resourceId: id,
      });
      expect(Date.parse(event.at)).not.toBeNaN();
    }
  });

  it('emits refused writes and unauthenticated requests as failures', async () => {
    events.length = 0;
    await t.http
      .post('/scim/v2/Users')
      .set(t.auth)
      .send({ schemas: [USER] });
    await t.http.get('/scim/v2/Users').set('Authorization', 'Bearer wrong');
    expect(events).toMatchObject([
      { type: 'scim.write_rejected', outcome: 'failure', status: 400, reason: 'invalidValue', resourceType: 'User', method: 'POST' },
      { type: 'scim.unauthorized', outcome: 'failure', status: 401, customerId: null },
    ]);
  });

  it('emits management changes and never carries a token or a secret', async () => {
    events.length = 0;
    const { token } = await t.sso.createScimConnection({ customerId: 'audited' });
    const rotated = await t.sso.rotateScimToken('audited', { graceSeconds: 60 });
    await t.sso.createOidcClient({
      customerId: 'audited',
      idpType: 'Okta',
      issuer: 'https://idp.example.com',
      clientId: 'c',
      clientSecret: 'top-secret-value',
      redirectUri: 'https://app.example.com/cb',
    });
    await t.sso.deleteScimConnection('audited');
    expect(events.map((e) => e.type)).toEqual(['connection.created', 'connection.token_rotated', 'oidc_client.created', 'connection.deleted']);
    const all = JSON.stringify(events);
    for (const secret of [token, rotated.token, t.token, 'top-secret-value', 'Secret-Pa55']) expect(all).not.toContain(secret);
  });
});
