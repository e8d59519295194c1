/**
 * What both example apps (Express and Koa) share: the store, the embedded demo IdP, the demo customer's SCIM
 * connection and OIDC client, the provisioned demo people, and the optional empty "conformance" customer.
 */
import { Redis } from 'ioredis';
import { memoryStore, redisStore, scimSso, type ScimSso } from '../src/index.js';
import { DEMO_CLIENT, DEMO_CUSTOMER, DEMO_PEOPLE, oktaUserBody } from './demo-data.js';
import { startDemoIdp, type DemoIdp } from './demo-idp.js';

export interface Demo {
  sso: ScimSso;
  idp: DemoIdp;
  origin: string;
  /** The demo customer's SCIM token. */
  demoToken: string;
  /** The token of the empty "conformance" customer, when SCIM_TOKEN was set. */
  conformanceToken: string | null;
  /** The line CI and people read: `SCIM base URL: <url> token: <token>`. */
  banner(framework: string): string;
  close(): Promise<void>;
}

export async function setUpDemo(port: number): Promise<Demo> {
  const origin = `http://127.0.0.1:${port}`;
  const redis = process.env.REDIS_URL ? new Redis(process.env.REDIS_URL) : null;
  const store = redis ? redisStore({ client: redis, prefix: 'scim-sso-example:' }) : memoryStore();
  // allowHttpIssuers: the demo IdP runs on http://127.0.0.1. Never set it in production.
  const sso = scimSso({ store, allowHttpIssuers: true });

  const idp = await startDemoIdp({
    port: Number(process.env.IDP_PORT ?? 0),
    tenants: [
      {
        id: DEMO_CUSTOMER,
        clients: [{ ...DEMO_CLIENT, redirect_uris: [`${origin}/sso/${DEMO_CUSTOMER}/callback`] }],
        accounts: DEMO_PEOPLE.map((p) => p.account),
      },
    ],
  });

  // Demo data is recreated at every start, so a persistent Redis never carries an old run.
  const reset = async (customerId: string) => {
    await sso.deleteOidcClient(customerId);
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
  const scim = async (method: string, path: string, body: unknown) => {
    const response = await sso.handleScim({
      method,
      path,
      query: new URLSearchParams(),
      headers: { authorization: `Bearer ${demo.token}`, 'content-type': 'application/scim+json' },
      body: JSON.stringify(body),
      baseUrl: `${origin}${sso.options.basePath}`,
    });
    return JSON.parse(response.body ?? 'null') as { id: string };
  };
  for (const person of DEMO_PEOPLE) {
    if (person.scim === 'none') continue;
    const user = await scim('POST', '/Users', oktaUserBody(person.account));
    if (person.scim === 'deactivated') {
      await scim('PATCH', `/Users/${user.id}`, { Operations: [{ op: 'replace', value: { active: false } }] });
    }
  }

  let conformanceToken: string | null = null;
  if (process.env.SCIM_TOKEN) {
    await reset('conformance');
    conformanceToken = (await sso.createScimConnection({ customerId: 'conformance', token: process.env.SCIM_TOKEN })).token;
  }

  return {
    sso,
    idp,
    origin,
    demoToken: demo.token,
    conformanceToken,
    banner: (framework) =>
      [
        `framework: ${framework}, store: ${store.kind}`,
        `demo IdP: ${idp.issuer(DEMO_CUSTOMER)}`,
        `example app: ${origin}/  (log in as Alice, Bob or Carol)`,
        ...(conformanceToken ? [`demo customer ${DEMO_CUSTOMER} token: ${demo.token}`] : []),
        `SCIM base URL: ${origin}${sso.options.basePath} token: ${conformanceToken ?? demo.token}`,
      ].join('\n'),
    async close() {
      await idp.close();
      await redis?.quit();
    },
  };
}
