/** The dashboard with a SAML customer: the list, the customer page, SCIM Matching with the SAML strategies, Compare. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboard } from '../../src/express/dashboard.js';
import { STORE_KINDS, makeStore } from '../support/app.js';
import { testSamlIdp } from '../support/saml-idp.js';
import { scimSso, type ScimSso } from '../support/sso.js';
import { ADMIN, USER_SCHEMA, csrfTokenOf, defaultAuthorize, ssoUser } from './fixture.js';

const CUSTOMER = 'saml-acme';
const OID = 'a1b2c3d4-0000-4000-8000-000000000001';

describe.each(STORE_KINDS)('dashboard with a SAML customer (%s store)', (kind) => {
  let sso: ScimSso;
  let server: Server;
  let cleanup: () => Promise<void>;
  let http: ReturnType<typeof supertest>;
  let scimUserId: string;

  beforeAll(async () => {
    const made = await makeStore(kind, `dashboard-saml-${kind}`);
    cleanup = made.cleanup;
    sso = scimSso({ store: made.store });
    const app = express();
    app.use(sso);
    app.use(dashboard(sso, { authorize: defaultAuthorize }));
    server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    http = supertest(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    const { token } = await sso.createScimConnection({ customerId: CUSTOMER });
    await sso.createSamlConnection({
      customerId: CUSTOMER,
      idpType: 'MicrosoftEntra',
      idpMetadataXml: testSamlIdp('https://sts.example.test/tenant').metadata(),
      acsUrl: 'https://app.example.test/sso/saml-acme/saml/acs',
    });
    const res = await http
      .post('/scim/v2/Users')
      .set('Authorization', `Bearer ${token}`)
      .send({ schemas: [USER_SCHEMA], userName: 'erin@acme.test', externalId: OID });
    scimUserId = res.body.id as string;
    await made.store.recordSsoUser(
      CUSTOMER,
      ssoUser({
        subject: 'erin@acme.test',
        email: 'erin@acme.test',
        emailVerified: null,
        claims: { sub: 'erin@acme.test', saml_attribute: OID },
        lastOutcome: 'admitted',
        lastReason: null,
        lastScimUserId: scimUserId,
      }),
    );
  });
  afterAll(async () => {
    server?.close();
    await cleanup?.();
  });

  it('lists the customer with its SAML connection, IdP type and strategy', async () => {
    const page = await http.get('/admin/').set(ADMIN);
    expect(page.status).toBe(200);
    expect(page.text).toContain('SAML: https://sts.example.test/tenant');
    expect(page.text).toContain('<code>SamlAttributeToScimExternalId</code>');
  });

  it('shows the SAML connection and the SSO users on the customer page', async () => {
    const page = await http.get(`/admin/customers/${CUSTOMER}`).set(ADMIN);
    expect(page.status).toBe(200);
    expect(page.text).toContain('<h2 id="saml-heading">SAML connection</h2>');
    expect(page.text).toContain('https://app.example.test/sso/saml-acme/saml/acs');
    expect(page.text).toContain('SSO users (1)');
    expect(page.text).toContain('through the SAML connection');
  });

  it('evaluates the SAML strategies on SCIM Matching, saves one, and compares an SSO user', async () => {
    const report = await http.get(`/admin/customers/${CUSTOMER}/matching.json`).set(ADMIN);
    expect(report.status).toBe(200);
    expect(report.body.strategies.map((s: { strategy: string }) => s.strategy)).toEqual([
      'SamlNameIdToScimUsername',
      'SamlNameIdToScimExternalId',
      'SamlEmailToScimUsername',
      'SamlAttributeToScimExternalId',
    ]);
    const current = report.body.strategies.find((s: { strategy: string }) => s.strategy === 'SamlAttributeToScimExternalId');
    expect(current.admitted.count).toBe(1);

    const agent = supertest.agent(server);
    const page = await agent.get(`/admin/customers/${CUSTOMER}/matching`).set(ADMIN);
    expect(page.status).toBe(200);
    const token = csrfTokenOf(page.text);
    const oidcName = await agent
      .post(`/admin/customers/${CUSTOMER}/matching`)
      .set(ADMIN)
      .set('Sec-Fetch-Site', 'same-origin')
      .type('form')
      .send({ strategy: 'OidcSubToScimUsername', _csrf: token });
    expect(oidcName.status).toBe(400);
    const saved = await agent
      .post(`/admin/customers/${CUSTOMER}/matching`)
      .set(ADMIN)
      .set('Sec-Fetch-Site', 'same-origin')
      .type('form')
      .send({ strategy: 'SamlNameIdToScimUsername', _csrf: token });
    expect(saved.status).toBe(303);
    expect((await sso.fetchSamlConnection(CUSTOMER))!.matchingStrategy).toBe('SamlNameIdToScimUsername');

    const compare = await http.get(`/admin/customers/${CUSTOMER}/compare?subject=${encodeURIComponent('erin@acme.test')}`).set(ADMIN);
    expect(compare.status).toBe(200);
    expect(compare.text).toContain('SamlAttributeToScimExternalId');
    expect(compare.text).toContain('match attribute');
  });
});
