/**
 * The demo IdP on its own, for trying the README's snippets (examples/express.ts, examples/koa.ts) on your
 * machine: `npx tsx example-app/snippet-idp.ts`. It serves customer acme's tenant with the demo accounts
 * (example-app/demo-data.ts) and the client the snippets log in with, whose redirect URI is
 * `<APP_URL>/sso/acme/callback`, and prints the environment the snippets read.
 *
 * Environment: IDP_PORT (default 4000), APP_URL (default http://127.0.0.1:3000, the snippets' default).
 * test/docs/snippets.test.ts starts it through `startSnippetIdp`.
 */
import { pathToFileURL } from 'node:url';
import { DEMO_CLIENT, DEMO_CUSTOMER, DEMO_PEOPLE, MISMATCHED_PEOPLE } from './demo-data.js';
import { startDemoIdp, type DemoIdp } from './demo-idp.js';
import { exitOnListenError } from './setup.js';

const ACCOUNTS = [...DEMO_PEOPLE, ...MISMATCHED_PEOPLE].map((p) => p.account);

export interface SnippetIdp {
  idp: DemoIdp;
  /** What a snippet needs besides REDIS_URL, SESSION_SECRET and PORT/APP_URL. */
  env: { OIDC_ISSUER: string; OIDC_CLIENT_ID: string; OIDC_CLIENT_SECRET: string };
}

/** Starts the demo IdP with customer acme's tenant, its client redirecting to `${appUrl}/sso/acme/callback`. */
export async function startSnippetIdp(options: { port: number; appUrl: string }): Promise<SnippetIdp> {
  const idp = await startDemoIdp({
    port: options.port,
    tenants: [
      {
        id: DEMO_CUSTOMER,
        clients: [{ ...DEMO_CLIENT, redirect_uris: [`${options.appUrl}/sso/${DEMO_CUSTOMER}/callback`] }],
        // Labelled by email: what the example app's labels say (provisioned, deactivated) is not true here,
        // where nobody is provisioned until you POST them.
        accounts: ACCOUNTS.map((account) => ({ ...account, label: String(account.email) })),
      },
    ],
  });
  const env = { OIDC_ISSUER: idp.issuer(DEMO_CUSTOMER), OIDC_CLIENT_ID: DEMO_CLIENT.client_id, OIDC_CLIENT_SECRET: DEMO_CLIENT.client_secret };
  return { idp, env };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const port = Number(process.env.IDP_PORT ?? 4000);
  const appUrl = process.env.APP_URL ?? 'http://127.0.0.1:3000';
  const { idp, env } = await startSnippetIdp({ port, appUrl }).catch((error: unknown) => exitOnListenError('the demo IdP', port, 'IDP_PORT', error));
  const people = ACCOUNTS.map((account) => `${account.email} (sub ${account.sub})`).join(', ');
  console.log(`demo IdP for customer ${DEMO_CUSTOMER}: ${env.OIDC_ISSUER} (redirect URI ${appUrl}/sso/${DEMO_CUSTOMER}/callback)`);
  console.log(`accounts (none provisioned until you POST them to the app's SCIM routes): ${people}`);
  console.log('in the terminal of the snippet:');
  console.log(
    `export ${Object.entries(env)
      .map(([name, value]) => `${name}=${value}`)
      .join(' ')}`,
  );
  const stop = () => void idp.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
