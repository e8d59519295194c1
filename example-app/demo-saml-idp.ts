/**
 * An embedded demo SAML 2.0 IdP for the example app (never a production IdP): samlify with the demo key pair
 * in example-app/saml-demo/ (self-signed, committed, for the demo only). It plays an Entra-style IdP: the
 * NameID is the person's email, and the assertion carries Entra's object identifier and email attributes.
 *
 * `GET <origin>/saml/sso?SAMLRequest=…` (HTTP-Redirect) shows one button per account; choosing one answers
 * with an auto-submitting form that POSTs the signed SAMLResponse to the app's ACS, as a real IdP does.
 * `GET <origin>/saml/apps` is the IdP's app dashboard: one tile per account, each posting a response that
 * answers no request (an IdP-initiated login, as Okta's and Entra's tiles do).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import * as samlifyModule from 'samlify';

// samlify is CommonJS: under tsx its getters are reached through the default export, under vitest directly.
const samlify = (samlifyModule as typeof samlifyModule & { default?: typeof samlifyModule }).default ?? samlifyModule;

// samlify checks inbound XML against the SAML schemas only with a validator the caller installs; this demo
// IdP reads only the example app's own AuthnRequests, so a permissive one is enough here.
samlify.setSchemaValidator({ validate: () => Promise.resolve('skipped: demo IdP') });

const key = readFileSync(new URL('./saml-demo/idp.key.pem', import.meta.url), 'utf8');
const cert = readFileSync(new URL('./saml-demo/idp.cert.pem', import.meta.url), 'utf8');

export const ENTRA_OBJECT_ID = 'http://schemas.microsoft.com/identity/claims/objectidentifier';
const ENTRA_EMAIL = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress';
const ENTRA_NAME = 'http://schemas.microsoft.com/identity/claims/displayname';

export interface SamlDemoAccount {
  email: string;
  objectId: string;
  name: string;
  /** Shown on the demo login page. */
  label: string;
}

export interface DemoSamlIdp {
  entityId: string;
  metadata: string;
  /** Registers the SP (the app's connection for one customer) whose AuthnRequests this IdP answers. */
  addSp(sp: { entityId: string; acsUrl: string }): void;
  close(): Promise<void>;
}

const escape = (value: string) => value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function attributeStatement(account: SamlDemoAccount): string {
  const attribute = (name: string, value: string) =>
    `<saml:Attribute Name="${escape(name)}"><saml:AttributeValue xsi:type="xs:string">${escape(value)}</saml:AttributeValue></saml:Attribute>`;
  return `<saml:AttributeStatement>${attribute(ENTRA_OBJECT_ID, account.objectId)}${attribute(ENTRA_EMAIL, account.email)}${attribute(ENTRA_NAME, account.name)}</saml:AttributeStatement>`;
}

export async function startDemoSamlIdp(options: { port?: number; accounts: SamlDemoAccount[] }): Promise<DemoSamlIdp> {
  const app = express();
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(options.port ?? 0, '127.0.0.1', (error?: Error) => (error ? reject(error) : resolve(s)));
  });
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const entityId = `${origin}/saml`;
  const idp = samlify.IdentityProvider({
    entityID: entityId,
    privateKey: key,
    signingCert: cert,
    nameIDFormat: ['urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress'],
    singleSignOnService: [{ Binding: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect', Location: `${entityId}/sso` }],
    singleLogoutService: [{ Binding: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect', Location: `${entityId}/slo` }],
  });
  const sps = new Map<string, ReturnType<typeof samlify.ServiceProvider>>();
  const acsOf = new Map<string, string>();

  app.get('/saml/sso', async (req, res) => {
    try {
      const url = new URL(req.originalUrl, origin);
      const [spEntity, sp] = [...sps.entries()][0] ?? [];
      if (!sp || !spEntity) return void res.status(400).send('no service provider registered');
      const parsed = await idp.parseLoginRequest(sp, 'redirect', { query: Object.fromEntries(url.searchParams), octetString: url.search.slice(1) });
      const request = (parsed.extract as { request?: { id?: string }; issuer?: string }).request;
      const issuer = (parsed.extract as { issuer?: string }).issuer ?? spEntity;
      if (!request?.id || !sps.has(issuer)) return void res.status(400).send('unknown AuthnRequest');
      const buttons = options.accounts.map((a, i) => answerButton(request.id!, issuer, i, a.label)).join('');
      res.type('html').send(`<!doctype html><title>Demo SAML IdP</title><h1>Demo SAML IdP (Entra-style)</h1><p>Sign in as:</p><ul>${buttons}</ul>`);
    } catch {
      res.status(400).send('the SAMLRequest could not be read');
    }
  });

  /** One account's button: a form answering `requestId` ('' for none: a dashboard tile) for the SP. */
  const answerButton = (requestId: string, spEntity: string, index: number, label: string) =>
    `<li><form method="post" action="/saml/sso/answer"><input type="hidden" name="request" value="${escape(requestId)}"><input type="hidden" name="sp" value="${escape(spEntity)}"><input type="hidden" name="account" value="${index}"><button>${escape(label)}</button></form></li>`;

  app.get('/saml/apps', (_req, res) => {
    const [spEntity] = [...sps.keys()];
    if (!spEntity) return void res.status(400).send('no service provider registered');
    const tiles = options.accounts.map((a, i) => answerButton('', spEntity, i, `Open the app as ${a.label}`)).join('');
    res
      .type('html')
      .send(
        `<!doctype html><title>Demo SAML IdP: apps</title><h1>Demo SAML IdP: your apps</h1><p>Each tile posts a response that answers no request (an IdP-initiated login); the app starts a login of its own, which this IdP answers on its sign-in page.</p><ul>${tiles}</ul>`,
      );
  });

  app.post('/saml/sso/answer', express.urlencoded({ extended: false, limit: '4kb' }), async (req, res) => {
    const spEntity = String(req.body?.sp ?? '');
    const sp = sps.get(spEntity);
    const account = options.accounts[Number(req.body?.account)];
    const requestId = String(req.body?.request ?? '');
    if (!sp || !account || !/^[A-Za-z0-9_-]{0,100}$/.test(requestId)) return void res.status(400).send('bad answer');
    const now = Date.now();
    const at = (ms: number) => new Date(now + ms).toISOString();
    const acsUrl = acsOf.get(spEntity)!;
    const made = await idp.createLoginResponse(
      sp,
      { extract: { request: { id: requestId } } } as never,
      'post',
      {},
      {
        customTagReplacement: (template: string) => {
          const id = `_r${randomBytes(16).toString('hex')}`;
          const values = {
            ID: id,
            AssertionID: `_a${randomBytes(16).toString('hex')}`,
            Destination: acsUrl,
            Audience: spEntity,
            SubjectRecipient: acsUrl,
            Issuer: entityId,
            IssueInstant: at(0),
            StatusCode: 'urn:oasis:names:tc:SAML:2.0:status:Success',
            ConditionsNotBefore: at(-60_000),
            ConditionsNotOnOrAfter: at(5 * 60_000),
            SubjectConfirmationDataNotOnOrAfter: at(5 * 60_000),
            NameIDFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
            NameID: account.email,
            InResponseTo: requestId,
            AuthnStatement: '{AuthnStatement}',
            AttributeStatement: '{AttributeStatement}',
          };
          const context = samlify.SamlLib.replaceTagsByValue(template, values)
            .replace('{AuthnStatement}', '')
            .replace('{AttributeStatement}', attributeStatement(account));
          return { id, context };
        },
      },
    );
    res
      .type('html')
      .send(
        `<!doctype html><title>Signing in…</title><form method="post" action="${escape(acsUrl)}"><input type="hidden" name="SAMLResponse" value="${escape(made.context)}"><noscript><button>Continue</button></noscript></form><script>document.forms[0].submit()</script>`,
      );
  });

  return {
    entityId,
    metadata: idp.getMetadata(),
    addSp({ entityId: spEntityId, acsUrl }) {
      sps.set(
        spEntityId,
        samlify.ServiceProvider({
          entityID: spEntityId,
          assertionConsumerService: [{ Binding: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST', Location: acsUrl }],
          wantAssertionsSigned: true,
        }),
      );
      acsOf.set(spEntityId, acsUrl);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
