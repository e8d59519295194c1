/** The SAML connection management API (src/saml-connections.ts): sources of IdP settings, defaults, one SSO connection per customer. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ENTRA_OBJECT_ID_ATTRIBUTE, ScimSsoConfigError } from '../src/index.js';
import { scimSso } from './support/sso.js';
import { SAML_KEYS, testSamlIdp } from './support/saml-idp.js';

const acsUrl = 'https://app.example.com/sso/acme/saml/acs';
const idp = testSamlIdp('https://idp.example.com/saml');
const certBody = SAML_KEYS.idp.cert.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, '');

const rejectsWith = async (promise: Promise<unknown>, code: string, message?: RegExp) => {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ScimSsoConfigError);
  expect((error as ScimSsoConfigError).code).toBe(code);
  if (message) expect((error as Error).message).toMatch(message);
};

describe('SAML connections', () => {
  it('reads the IdP metadata and sets the defaults by IdP type; an explicit strategy wins', async () => {
    const sso = scimSso();
    const entra = await sso.createSamlConnection({ customerId: 'entra', idpType: 'MicrosoftEntra', idpMetadataXml: idp.metadata(), acsUrl });
    expect(entra).toMatchObject({
      customerId: 'entra',
      idpEntityId: 'https://idp.example.com/saml',
      entryPoint: 'https://idp.example.com/saml/sso',
      spEntityId: 'https://app.example.com/sso/acme/saml/metadata',
      acsUrl,
      matchingStrategy: 'SamlAttributeToScimExternalId',
      matchAttribute: ENTRA_OBJECT_ID_ATTRIBUTE,
      signed: 'assertion',
      clockSkewSeconds: 60,
      scimConnectionId: null,
    });
    expect(entra.idpCerts).toHaveLength(1);
    expect(entra.idpCerts[0]!.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, '')).toBe(certBody);
    const okta = await sso.createSamlConnection({ customerId: 'okta', idpType: 'Okta', idpMetadataXml: idp.metadata(), acsUrl });
    expect(okta.matchingStrategy).toBe('SamlNameIdToScimUsername');
    const explicit = await sso.createSamlConnection({
      customerId: 'explicit',
      idpType: 'Okta',
      idpMetadataXml: idp.metadata(),
      acsUrl,
      matchingStrategy: 'SamlEmailToScimUsername',
      spEntityId: 'urn:app:acme',
    });
    expect(explicit).toMatchObject({ matchingStrategy: 'SamlEmailToScimUsername', spEntityId: 'urn:app:acme' });
    expect(await sso.fetchSamlConnection('explicit')).toEqual(explicit);
  });

  it('takes entryPoint, idpCert (PEM or base64, one or two) and idpIssuer without metadata', async () => {
    const sso = scimSso();
    const made = await sso.createSamlConnection({
      customerId: 'manual',
      idpType: 'Generic',
      entryPoint: 'https://idp.example.com/sso',
      idpCert: [certBody, SAML_KEYS.next.cert],
      idpIssuer: 'urn:idp',
      acsUrl,
    });
    expect(made).toMatchObject({ entryPoint: 'https://idp.example.com/sso', idpEntityId: 'urn:idp' });
    expect(made.idpCerts).toHaveLength(2);
    expect(made.idpCerts.every((c) => c.startsWith('-----BEGIN CERTIFICATE-----\n'))).toBe(true);
  });

  it('fetches the metadata from a URL (http only with allowHttpIssuers)', async () => {
    const server = createServer((_req, res) => res.end(idp.metadata()));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metadata`;
    try {
      await rejectsWith(scimSso().createSamlConnection({ customerId: 'url', idpType: 'Okta', idpMetadataUrl: url, acsUrl }), 'invalid_argument', /https/);
      const made = await scimSso({ allowHttpIssuers: true }).createSamlConnection({ customerId: 'url', idpType: 'Okta', idpMetadataUrl: url, acsUrl });
      expect(made.entryPoint).toBe('https://idp.example.com/saml/sso');
    } finally {
      server.close();
    }
  });

  it('never fetches metadata from a loopback, private or metadata address without allowHttpIssuers', async () => {
    for (const idpMetadataUrl of ['https://127.0.0.1:1/metadata', 'https://169.254.169.254/latest', 'https://[::1]:1/m', 'https://localhost:1/m']) {
      await rejectsWith(
        scimSso().createSamlConnection({ customerId: 'url', idpType: 'Okta', idpMetadataUrl, acsUrl }),
        'invalid_argument',
        /not a public address/,
      );
    }
  });

  it('keeps one SSO connection per customer: OIDC and SAML refuse each other, with a clear error', async () => {
    const sso = scimSso();
    await sso.createOidcClient({ customerId: 'has-oidc', idpType: 'Okta', issuer: 'https://idp.test', clientId: 'c', redirectUri: 'https://app.test/cb' });
    await rejectsWith(
      sso.createSamlConnection({ customerId: 'has-oidc', idpType: 'Okta', idpMetadataXml: idp.metadata(), acsUrl }),
      'sso_connection_exists',
      /already has an OIDC client/,
    );
    await sso.createSamlConnection({ customerId: 'has-saml', idpType: 'Okta', idpMetadataXml: idp.metadata(), acsUrl });
    await rejectsWith(
      sso.createOidcClient({ customerId: 'has-saml', idpType: 'Okta', issuer: 'https://idp.test', clientId: 'c', redirectUri: 'https://app.test/cb' }),
      'sso_connection_exists',
      /already has a SAML connection/,
    );
    await rejectsWith(sso.createSamlConnection({ customerId: 'has-saml', idpType: 'Okta', idpMetadataXml: idp.metadata(), acsUrl }), 'saml_connection_exists');
    expect(await sso.deleteSamlConnection('has-saml')).toBe(true);
    expect(await sso.deleteSamlConnection('has-saml')).toBe(false);
    expect(await sso.fetchSamlConnection('has-saml')).toBeNull();
    await expect(
      sso.createOidcClient({ customerId: 'has-saml', idpType: 'Okta', issuer: 'https://idp.test', clientId: 'c', redirectUri: 'https://app.test/cb' }),
    ).resolves.toMatchObject({ customerId: 'has-saml' });
  });

  it('refuses bad input with invalid_argument', async () => {
    const sso = scimSso();
    const base = { customerId: 'bad', idpType: 'Okta' as const, acsUrl };
    await rejectsWith(sso.createSamlConnection({ ...base }), 'invalid_argument', /idpMetadataXml/);
    await rejectsWith(sso.createSamlConnection({ ...base, idpMetadataXml: idp.metadata(), idpIssuer: 'x' }), 'invalid_argument', /one of/);
    await rejectsWith(sso.createSamlConnection({ ...base, entryPoint: 'https://idp.test/sso', idpIssuer: 'x' }), 'invalid_argument', /go together/);
    await rejectsWith(
      sso.createSamlConnection({ ...base, entryPoint: 'https://idp.test/sso', idpIssuer: 'x', idpCert: 'not a cert' }),
      'invalid_argument',
      /X\.509/,
    );
    await rejectsWith(sso.createSamlConnection({ ...base, idpMetadataXml: '<nope/>' }), 'invalid_argument', /EntityDescriptor/);
    // A key every signature check would pay 25 times over for (src/saml/signing-key.ts), given either way.
    const bigExponent = /the IdP certificate is refused: its RSA public exponent has 3056 bits; at most 32 are accepted/;
    await rejectsWith(sso.createSamlConnection({ ...base, idpMetadataXml: idp.metadata(['idp', 'bigExponent']) }), 'invalid_argument', bigExponent);
    await rejectsWith(
      sso.createSamlConnection({ ...base, entryPoint: 'https://idp.test/sso', idpIssuer: 'x', idpCert: SAML_KEYS.bigExponent.cert }),
      'invalid_argument',
      bigExponent,
    );
    await rejectsWith(sso.createSamlConnection({ ...base, idpMetadataXml: '<!DOCTYPE x [<!ENTITY a "b">]><x/>' }), 'invalid_argument', /DOCTYPE/);
    await rejectsWith(
      sso.createSamlConnection({ ...base, idpMetadataXml: idp.metadata(), matchingStrategy: 'OidcSubToScimUsername' as never }),
      'invalid_argument',
    );
    await rejectsWith(sso.createSamlConnection({ ...base, idpMetadataXml: idp.metadata(), clockSkewSeconds: 3600 }), 'invalid_argument');
    await rejectsWith(sso.createSamlConnection({ ...base, idpMetadataXml: idp.metadata(), extra: 1 } as never), 'invalid_argument');
    expect(await sso.fetchSamlConnection('bad')).toBeNull();
  });

  it('emits an admin audit event for each change', async () => {
    const types: string[] = [];
    const sso = scimSso({ onEvent: (event) => void types.push(event.type) });
    await sso.createSamlConnection({ customerId: 'audited', idpType: 'Okta', idpMetadataXml: idp.metadata(), acsUrl });
    await sso.updateSamlConnection('audited', { clockSkewSeconds: 30 });
    await sso.deleteSamlConnection('audited');
    await sso.deleteSamlConnection('audited');
    expect(types).toEqual(['saml_connection.created', 'saml_connection.updated', 'saml_connection.deleted']);
  });

  it('updates: a second certificate for rotation, and defaults that follow a new IdP type', async () => {
    const sso = scimSso();
    const made = await sso.createSamlConnection({ customerId: 'upd', idpType: 'Okta', idpMetadataXml: idp.metadata(), acsUrl });
    const rotated = await sso.updateSamlConnection('upd', { idpMetadataXml: idp.metadata(['idp', 'next']) });
    expect(rotated.idpCerts).toHaveLength(2);
    expect(Date.parse(rotated.updatedAt)).toBeGreaterThan(Date.parse(made.updatedAt));
    const entra = await sso.updateSamlConnection('upd', { idpType: 'MicrosoftEntra' });
    expect(entra).toMatchObject({ matchingStrategy: 'SamlAttributeToScimExternalId', matchAttribute: ENTRA_OBJECT_ID_ATTRIBUTE, idpCerts: rotated.idpCerts });
    await rejectsWith(sso.updateSamlConnection('nobody', { signed: 'both' }), 'saml_connection_not_found');
  });
});
