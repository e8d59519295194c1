/**
 * A real SAML 2.0 IdP in process for the end-to-end tests: samlify, with its own keys (test/fixtures/saml/,
 * self-signed, generated once with openssl). It parses the app's AuthnRequest (HTTP-Redirect) and builds
 * and signs the Response (HTTP-POST) as an IdP does; a test picks what goes into the assertion (NameID,
 * attributes, times, audience, recipient) to play an Entra-style or Okta-style IdP, or an attacker.
 *
 * samlify validates inbound XML against the SAML schemas only through a validator the caller installs; the
 * IdP is the test's peer (not the code under test) and reads only the app's own AuthnRequests, so it
 * installs a permissive one. The app under test validates with node-saml, which needs none.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as samlifyModule from 'samlify';

// samlify is CommonJS: under tsx its getters are reached through the default export, under vitest directly.
const samlify = (samlifyModule as typeof samlifyModule & { default?: typeof samlifyModule }).default ?? samlifyModule;

samlify.setSchemaValidator({ validate: () => Promise.resolve('skipped: the test IdP trusts the app under test') });

const fixture = (name: string) => readFileSync(new URL(`../fixtures/saml/${name}`, import.meta.url), 'utf8');

/** The IdP's key pairs: its current signing key, the next one (rotation), an attacker's, and one too costly to check with. */
export const SAML_KEYS = {
  idp: { key: fixture('idp.key.pem'), cert: fixture('idp.cert.pem') },
  next: { key: fixture('idp-next.key.pem'), cert: fixture('idp-next.cert.pem') },
  attacker: { key: fixture('attacker.key.pem'), cert: fixture('attacker.cert.pem') },
  /** An RSA key of 3,072 bits whose public exponent has 3,056 (src/saml/signing-key.ts refuses it). */
  bigExponent: { key: fixture('big-exponent.key.pem'), cert: fixture('big-exponent.cert.pem') },
} as const;

export type SamlKeyName = keyof typeof SAML_KEYS;

const REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';
const POST = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST';
export const NAMEID_EMAIL = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress';
export const NAMEID_PERSISTENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent';

/** The SP the IdP answers: one customer's connection as the app published it. */
export interface SamlSp {
  entityId: string;
  acsUrl: string;
}

/** What goes into one Response. Times are ms offsets from now; fields left out take an IdP's usual values. */
export interface SamlAnswer {
  nameId: string;
  nameIdFormat?: string;
  attributes?: Record<string, string | string[]>;
  /** Which parts are signed: the assertion (default), the response, both, or nothing. */
  sign?: 'assertion' | 'response' | 'both' | 'none';
  /** Sign with this key instead of the IdP's current one. */
  key?: SamlKeyName;
  audience?: string;
  recipient?: string;
  destination?: string;
  issuer?: string;
  /** The request answered; null: none at all, no InResponseTo attribute anywhere (an IdP-initiated response). */
  inResponseTo?: string | null;
  /** The attribute statements as raw XML, instead of `attributes` (e.g. one attribute sent twice). */
  attributeStatementXml?: string;
  notBeforeMs?: number;
  notOnOrAfterMs?: number;
  /** The subject confirmation's own NotOnOrAfter, when it differs from the conditions' (Entra: 5 minutes in an hour). */
  confirmationNotOnOrAfterMs?: number;
}

/** A placeholder for an InResponseTo the response leaves out (SamlAnswer.inResponseTo null). */
const NO_REQUEST = '_no-request-placeholder';

/** One attribute as raw statement XML (SamlAnswer.attributeStatementXml), values escaped. */
export const samlAttributeXml = (name: string, ...values: string[]): string =>
  `<saml:Attribute Name="${escapeXml(name)}">${values.map((v) => `<saml:AttributeValue xsi:type="xs:string">${escapeXml(v)}</saml:AttributeValue>`).join('')}</saml:Attribute>`;

const escapeXml = (value: string) => value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function attributeStatement(attributes: Record<string, string | string[]>): string {
  const items = Object.entries(attributes).map(
    ([name, value]) =>
      `<saml:Attribute Name="${escapeXml(name)}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri">${[value]
        .flat()
        .map((v) => `<saml:AttributeValue xsi:type="xs:string">${escapeXml(v)}</saml:AttributeValue>`)
        .join('')}</saml:Attribute>`,
  );
  return items.length ? `<saml:AttributeStatement>${items.join('')}</saml:AttributeStatement>` : '';
}

const AUTHN_STATEMENT = (now: string) =>
  `<saml:AuthnStatement AuthnInstant="${now}" SessionIndex="_s${randomBytes(8).toString('hex')}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>`;

export interface TestSamlIdp {
  entityId: string;
  ssoUrl: string;
  /** The IdP's metadata XML (its current certificate, or the ones named). */
  metadata(keys?: SamlKeyName[]): string;
  /** The AuthnRequest ID inside a login redirect URL (parsed by samlify as an IdP would). */
  requestIdOf(redirectUrl: string, sp: SamlSp): Promise<string>;
  /** A base64 SAMLResponse for `sp`. */
  respond(sp: SamlSp, answer: SamlAnswer): Promise<string>;
}

export function testSamlIdp(entityId = `https://idp-${randomBytes(3).toString('hex')}.test/saml`): TestSamlIdp {
  const ssoUrl = `${entityId}/sso`;
  const idpFor = (keys: SamlKeyName[], signWith: SamlKeyName) =>
    samlify.IdentityProvider({
      entityID: entityId,
      privateKey: SAML_KEYS[signWith].key,
      signingCert: keys.map((k) => SAML_KEYS[k].cert),
      nameIDFormat: [NAMEID_EMAIL, NAMEID_PERSISTENT],
      singleSignOnService: [{ Binding: REDIRECT, Location: ssoUrl }],
      singleLogoutService: [{ Binding: REDIRECT, Location: `${entityId}/slo` }],
    });
  const spFor = (sp: SamlSp, sign: SamlAnswer['sign']) =>
    samlify.ServiceProvider({
      entityID: sp.entityId,
      assertionConsumerService: [{ Binding: POST, Location: sp.acsUrl }],
      wantAssertionsSigned: sign === 'assertion' || sign === 'both' || sign === 'none',
      wantMessageSigned: sign === 'response' || sign === 'both',
    });

  return {
    entityId,
    ssoUrl,
    metadata: (keys = ['idp']) => idpFor(keys, keys[0]!).getMetadata(),

    async requestIdOf(redirectUrl, sp) {
      const url = new URL(redirectUrl);
      if (`${url.origin}${url.pathname}` !== ssoUrl) throw new Error(`test IdP: the login went to ${url.origin}${url.pathname}, not ${ssoUrl}`);
      const parsed = await idpFor(['idp'], 'idp').parseLoginRequest(spFor(sp, 'assertion'), 'redirect', {
        query: Object.fromEntries(url.searchParams),
        octetString: url.search.slice(1),
      });
      const id = (parsed.extract as { request?: { id?: string } }).request?.id;
      if (!id) throw new Error('test IdP: no AuthnRequest ID');
      return id;
    },

    async respond(sp, answer) {
      const sign = answer.sign ?? 'assertion';
      const now = Date.now();
      const at = (offset: number) => new Date(now + offset).toISOString();
      const idp = idpFor(['idp'], answer.key ?? 'idp');
      const issueInstant = at(0);
      const values = {
        ID: `_r${randomBytes(16).toString('hex')}`,
        AssertionID: `_a${randomBytes(16).toString('hex')}`,
        Destination: answer.destination ?? sp.acsUrl,
        Audience: answer.audience ?? sp.entityId,
        EntityID: sp.entityId,
        SubjectRecipient: answer.recipient ?? sp.acsUrl,
        Issuer: answer.issuer ?? entityId,
        IssueInstant: issueInstant,
        StatusCode: 'urn:oasis:names:tc:SAML:2.0:status:Success',
        ConditionsNotBefore: at(answer.notBeforeMs ?? -60_000),
        ConditionsNotOnOrAfter: at(answer.notOnOrAfterMs ?? 5 * 60_000),
        SubjectConfirmationDataNotOnOrAfter: at(answer.confirmationNotOnOrAfterMs ?? answer.notOnOrAfterMs ?? 5 * 60_000),
        NameIDFormat: answer.nameIdFormat ?? NAMEID_EMAIL,
        NameID: answer.nameId,
        InResponseTo: answer.inResponseTo ?? '',
        // Replaced below when the response answers no request.
        ...(answer.inResponseTo === null ? { InResponseTo: NO_REQUEST } : {}),
        AuthnStatement: AUTHN_STATEMENT(issueInstant),
        AttributeStatement: '',
      };
      const made = await idp.createLoginResponse(
        spFor(sp, sign),
        { extract: { request: { id: values.InResponseTo } } } as never,
        'post',
        {},
        {
          customTagReplacement: (template: string) => {
            // The statements are XML built here (escaped above); replaceTagsByValue escapes the other values.
            const filled = samlify.SamlLib.replaceTagsByValue(template, {
              ...values,
              AuthnStatement: '{AuthnStatement}',
              AttributeStatement: '{AttributeStatement}',
            })
              .replace('{AuthnStatement}', values.AuthnStatement)
              .replace('{AttributeStatement}', answer.attributeStatementXml ?? attributeStatement(answer.attributes ?? {}))
              .replaceAll(` InResponseTo="${NO_REQUEST}"`, '');
            return { id: values.ID, context: filled };
          },
        },
      );
      let xml = Buffer.from(made.context, 'base64').toString('utf8');
      if (sign === 'none') xml = stripSignatures(xml);
      return Buffer.from(xml, 'utf8').toString('base64');
    },
  };
}

/** The response without any XML signature (what an attacker who cannot sign sends). */
export function stripSignatures(xml: string): string {
  return xml.replace(/<ds:Signature[\s\S]*?<\/ds:Signature>/g, '');
}

/** XML signature wrapping: the signed response with an unsigned assertion of the attacker's injected before the signed one. */
export function wrapWithInjectedAssertion(samlResponse: string, evilNameId: string): string {
  const xml = Buffer.from(samlResponse, 'base64').toString('utf8');
  const start = xml.indexOf('<saml:Assertion');
  const end = xml.indexOf('</saml:Assertion>') + '</saml:Assertion>'.length;
  const signed = xml.slice(start, end);
  const evil = stripSignatures(signed)
    .replace(/ID="[^"]+"/, `ID="_evil${randomBytes(8).toString('hex')}"`)
    .replace(/<saml:NameID([^>]*)>[^<]*<\/saml:NameID>/, `<saml:NameID$1>${escapeXml(evilNameId)}</saml:NameID>`);
  return Buffer.from(xml.slice(0, start) + evil + xml.slice(start), 'utf8').toString('base64');
}

/** The IdP's request ID field aside, an AuthnRequest redirect's Location, decoded (for assertions in tests). */
export const isIdpRedirect = (location: string | null, idp: TestSamlIdp): boolean => location !== null && location.startsWith(`${idp.ssoUrl}?`);
