/**
 * What both example apps (Express and Koa) share: the store, the embedded demo IdPs (OIDC and SAML), the
 * demo customers (acme by OIDC, initech by SAML) with their SCIM connections and provisioned people, and the
 * optional empty "conformance" customer.
 */
import { Redis } from 'ioredis';
import { memoryStore, type ScimSsoCore, type ScimSsoOptions, type Store } from '../src/index.js';
import { internalsOf } from '../src/internal.js';
import { redisStore } from '../src/redis.js';
import {
  DEMO_CLIENT,
  DEMO_CUSTOMER,
  DEMO_GROUPS,
  DEMO_ROLE_MAPPING,
  DEMO_PEOPLE,
  EARLIER_LOGINS,
  MISMATCHED_PEOPLE,
  oktaUserBody,
  SAML_DEMO_CUSTOMER,
  SAML_DEMO_PEOPLE,
  SETUP_CLIENT,
  SETUP_CUSTOMER,
  SETUP_PEOPLE,
} from './demo-data.js';
import { startDemoSamlIdp, type DemoSamlIdp } from './demo-saml-idp.js';
import { startDemoIdp, type DemoIdp } from './demo-idp.js';
import { bodyText } from '../src/scim/response-body.js';

export interface Demo<Sso extends ScimSsoCore> {
  sso: Sso;
  idp: DemoIdp;
  /** The embedded demo SAML IdP of the SAML demo customer. */
  samlIdp: DemoSamlIdp;
  origin: string;
  /** The demo customer's SCIM token. */
  demoToken: string;
  /** The token of the empty "conformance" customer, when SCIM_TOKEN was set. */
  conformanceToken: string | null;
  /** The setup link printed for the fresh customer (SETUP_CUSTOMER). */
  setupLink: string;
  /** The line CI and people read: `SCIM base URL: <url> token: <token>` (last; `extra` lines go before it). */
  banner(framework: string, extra?: string[]): string;
  close(): Promise<void>;
}

/** Sets the demo up on a scim-sso instance made by `create`: `scimSso` of 'scim-sso/express' or 'scim-sso/koa'. */
export async function setUpDemo<Sso extends ScimSsoCore>(port: number, create: (options: ScimSsoOptions) => Sso): Promise<Demo<Sso>> {
  const origin = `http://127.0.0.1:${port}`;
  const redis = process.env.REDIS_URL ? new Redis(process.env.REDIS_URL) : null;
  const store = redis ? redisStore({ client: redis, prefix: 'scim-sso-example:' }) : memoryStore();
  // allowHttpIssuers: the demo IdP runs on http://127.0.0.1. Never set it in production.
  // setupPortalUrl: where express.ts and koa.ts mount the setup portal (setup links are built on it).
  const sso = create({ store, allowHttpIssuers: true, setupPortalUrl: `${origin}/setup` });

  const idpPort = Number(process.env.IDP_PORT ?? 0);
  const idp = await startDemoIdp({
    port: idpPort,
    tenants: [
      {
        id: DEMO_CUSTOMER,
        clients: [{ ...DEMO_CLIENT, redirect_uris: [`${origin}/sso/${DEMO_CUSTOMER}/callback`] }],
        accounts: [...DEMO_PEOPLE, ...MISMATCHED_PEOPLE].map((p) => p.account),
      },
      {
        // Entra-like: email and profile from userinfo, `oid` in the ID token.
        id: SETUP_CUSTOMER,
        claimsIn: 'userinfo',
        clients: [{ ...SETUP_CLIENT, redirect_uris: [`${origin}/sso/${SETUP_CUSTOMER}/callback`, `${origin}/setup/${SETUP_CUSTOMER}/test/callback`] }],
        accounts: SETUP_PEOPLE,
      },
    ],
  }).catch((error: unknown) => exitOnListenError('the demo IdP', idpPort, 'IDP_PORT', error));

  const samlPort = Number(process.env.SAML_IDP_PORT ?? 0);
  const samlIdp = await startDemoSamlIdp({ port: samlPort, accounts: SAML_DEMO_PEOPLE.map((p) => p.account) }).catch((error: unknown) =>
    exitOnListenError('the demo SAML IdP', samlPort, 'SAML_IDP_PORT', error),
  );

  // Demo data is recreated at every start, so a persistent Redis never carries an old run.
  const reset = async (customerId: string) => {
    await sso.deleteOidcClient(customerId);
    await sso.deleteSamlConnection(customerId);
    await sso.deleteScimConnection(customerId);
  };
  await reset(DEMO_CUSTOMER);
  const demo = await sso.createScimConnection({ customerId: DEMO_CUSTOMER, displayName: 'Acme Inc.' });
  await sso.createOidcClient({
    customerId: DEMO_CUSTOMER,
    idpType: 'Okta',
    issuer: idp.issuer(DEMO_CUSTOMER),
    clientId: DEMO_CLIENT.client_id,
    clientSecret: DEMO_CLIENT.client_secret,
    redirectUri: `${origin}/sso/${DEMO_CUSTOMER}/callback`,
  });

  // Provision the demo people the way an IdP would: through the SCIM routes, with the connection's token.
  // Demo seeding only: the SCIM handler is scim-sso's internal one (src/internal.ts), so the people exist
  // before the server listens; an app never needs it (IdPs provision over HTTP).
  const { handleScim } = internalsOf(sso);
  const scim = async (method: string, path: string, body: unknown) => {
    const response = await handleScim({
      method,
      path,
      query: new URLSearchParams(),
      headers: { authorization: `Bearer ${demo.token}`, 'content-type': 'application/scim+json' },
      body: JSON.stringify(body),
      baseUrl: `${origin}${sso.basePath}`,
    });
    return JSON.parse(bodyText(response.body) ?? 'null') as { id: string };
  };
  const userIds = new Map<string, string>(); // userName → SCIM id
  for (const person of DEMO_PEOPLE) {
    if (person.scim === 'none') continue;
    const user = await scim('POST', '/Users', oktaUserBody(person.account));
    userIds.set(String(person.account.email), user.id);
    if (person.scim === 'deactivated') {
      await scim('PATCH', `/Users/${user.id}`, { Operations: [{ op: 'replace', value: { active: false } }] });
    }
  }
  for (const person of MISMATCHED_PEOPLE) {
    const user = await scim('POST', '/Users', { ...oktaUserBody(person.account), userName: person.scimUserName });
    userIds.set(person.scimUserName, user.id);
  }
  for (const group of DEMO_GROUPS) {
    const members = group.members.map((userName) => ({ value: userIds.get(userName)!, display: userName }));
    await scim('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: group.displayName, members });
  }
  await sso.setRoleMapping(DEMO_CUSTOMER, DEMO_ROLE_MAPPING);
  await recordEarlierLogins(sso, store, idp.issuer(DEMO_CUSTOMER));
  await setUpSamlCustomer(sso, origin, samlIdp, reset);

  // The fresh customer: nothing set up, old setup links revoked, one new link for its IT admin.
  await reset(SETUP_CUSTOMER);
  await sso.revokeSetupLinks(SETUP_CUSTOMER);
  const setupLink = (await sso.createSetupLink(SETUP_CUSTOMER)).url;

  let conformanceToken: string | null = null;
  if (process.env.SCIM_TOKEN) {
    await reset('conformance');
    conformanceToken = (await sso.createScimConnection({ customerId: 'conformance', token: process.env.SCIM_TOKEN })).token;
  }

  return {
    sso,
    idp,
    samlIdp,
    origin,
    demoToken: demo.token,
    conformanceToken,
    setupLink,
    banner: (framework, extra = []) =>
      [
        `framework: ${framework}, store: ${store.kind}`,
        `demo IdP: ${idp.issuer(DEMO_CUSTOMER)}`,
        `example app: ${origin}/  (log in as Alice, Bob or Carol by OIDC; Grace, Heidi or Ivan by SAML)`,
        `demo SAML IdP: ${samlIdp.entityId}`,
        `setup link for the fresh customer ${SETUP_CUSTOMER} (give it to their IT admin): ${setupLink}`,
        `  ${SETUP_CUSTOMER}'s demo IdP (Entra-like): issuer ${idp.issuer(SETUP_CUSTOMER)} client id ${SETUP_CLIENT.client_id} client secret ${SETUP_CLIENT.client_secret}`,
        ...(conformanceToken ? [`demo customer ${DEMO_CUSTOMER} token: ${demo.token}`] : []),
        ...extra,
        `SCIM base URL: ${origin}${sso.basePath} token: ${conformanceToken ?? demo.token}`,
      ].join('\n'),
    async close() {
      await idp.close();
      await samlIdp.close();
      await redis?.quit();
    },
  };
}

/**
 * The SAML demo customer: a SCIM connection whose people are provisioned as Entra provisions them (userName
 * the email, externalId the object id), and a SAML connection to the demo SAML IdP (MicrosoftEntra: matched
 * by the object identifier attribute). Provisioned through the management and SCIM APIs like the OIDC customer.
 */
async function setUpSamlCustomer(sso: ScimSsoCore, origin: string, samlIdp: DemoSamlIdp, reset: (customerId: string) => Promise<void>): Promise<void> {
  await reset(SAML_DEMO_CUSTOMER);
  const scimConnection = await sso.createScimConnection({ customerId: SAML_DEMO_CUSTOMER, displayName: 'Initech Inc.' });
  const saml = await sso.createSamlConnection({
    customerId: SAML_DEMO_CUSTOMER,
    idpType: 'MicrosoftEntra',
    idpMetadataXml: samlIdp.metadata,
    acsUrl: `${origin}/sso/${SAML_DEMO_CUSTOMER}/saml/acs`,
  });
  samlIdp.addSp({ entityId: saml.spEntityId, acsUrl: saml.acsUrl });
  const { handleScim } = internalsOf(sso);
  for (const person of SAML_DEMO_PEOPLE) {
    if (person.scim === 'none') continue;
    const body = {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: person.account.email,
      externalId: person.account.objectId,
      displayName: person.account.name,
      active: person.scim === 'active',
    };
    await handleScim({
      method: 'POST',
      path: '/Users',
      query: new URLSearchParams(),
      headers: { authorization: `Bearer ${scimConnection.token}`, 'content-type': 'application/scim+json' },
      body: JSON.stringify(body),
      baseUrl: `${origin}${sso.basePath}`,
    });
  }
}

/**
 * Records one earlier login attempt for each of EARLIER_LOGINS, with the claims the demo IdP sends, as the
 * guard would have recorded it under the customer's current strategy: first stored as attempts, then each
 * outcome taken from the matching report's evaluation of that strategy (the guard's own functions).
 */
async function recordEarlierLogins(sso: ScimSsoCore, store: Store, issuer: string): Promise<void> {
  const accounts = [...DEMO_PEOPLE, ...MISMATCHED_PEOPLE].map((p) => p.account).filter((a) => EARLIER_LOGINS.includes(a.sub));
  const record = (index: number, outcome: { admitted: boolean; reason: string | null; scimUserId: string | null }) => {
    const account = accounts[index]!;
    const seen = new Date(Date.now() - (index + 1) * 86_400_000).toISOString();
    const [givenName, familyName] = String(account.name ?? '').split(' ');
    return store.recordSsoUser(DEMO_CUSTOMER, {
      subject: account.sub,
      email: account.email ?? null,
      emailVerified: account.email_verified ?? null,
      preferredUsername: account.preferred_username ?? null,
      name: account.name ?? null,
      claims: {
        sub: account.sub,
        iss: issuer,
        email: account.email,
        email_verified: account.email_verified,
        preferred_username: account.preferred_username,
        name: account.name,
        given_name: givenName,
        family_name: familyName,
      },
      firstSeenAt: seen,
      lastSeenAt: seen,
      lastOutcome: outcome.admitted ? 'admitted' : 'refused',
      lastReason: outcome.reason,
      lastScimUserId: outcome.scimUserId,
    });
  };
  for (let i = 0; i < accounts.length; i++) await record(i, { admitted: false, reason: 'not_provisioned', scimUserId: null });
  const report = await sso.matchingReport(DEMO_CUSTOMER);
  const current = report.strategies.find((s) => s.strategy === report.currentStrategy)!;
  // A handful of people: every one of them is among the report's examples (REPORT_EXAMPLES per category).
  for (let i = 0; i < accounts.length; i++) {
    const subject = accounts[i]!.sub;
    const admitted = current.admitted.examples.find((a) => a.ssoUser.subject === subject);
    const inactive = current.inactive.examples.find((a) => a.ssoUser.subject === subject);
    const ambiguous = current.ambiguous.examples.some((a) => a.ssoUser.subject === subject);
    if (admitted) await record(i, { admitted: true, reason: null, scimUserId: admitted.scimUser.id });
    else if (inactive) await record(i, { admitted: false, reason: 'deactivated', scimUserId: inactive.scimUser.id });
    else if (ambiguous) await record(i, { admitted: false, reason: 'ambiguous', scimUserId: null });
  }
}

/**
 * Ends the process with a clear message and exit code 1 when a server cannot listen (its port is taken,
 * most often by an example app that is still running): never a half-started demo that prints its banner.
 */
export function exitOnListenError(what: string, port: number, variable: string, error: unknown): never {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const why = code === 'EADDRINUSE' ? `port ${port} is already in use` : code === 'EACCES' ? `port ${port} needs privileges` : String(error);
  console.error(`example app: ${what} cannot listen on 127.0.0.1:${port}: ${why}. Stop whatever uses it, or set ${variable} to a free port.`);
  process.exit(1);
}
