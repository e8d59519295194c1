/**
 * The setup portal's Test SSO: `GET test` (the start form), `POST test` (a test login started at the
 * customer's IdP) and `GET test/callback` (its result: which SCIM user each strategy matches; no app
 * session is made and nothing is recorded, src/setup/test-login.ts).
 */
import type { DashboardResponse } from '../dashboard/index.js';
import type { StoredOidcClient } from '../store/store.js';
import { clientAndIdp, type Portal, type PortalTurn } from './portal-turn.js';
import { evaluateTestLogin } from './test-evaluation.js';
import { authorizationOrigin, clearTestCookie, finishTestLogin, startTestLogin } from './test-login.js';
import { testResultPage, testStartPage } from './test-page.js';

/** The answer to a Test SSO page, or null when `turn` names none. */
export async function testLoginRoute(portal: Portal, turn: PortalTurn): Promise<DashboardResponse | null> {
  const { store, runtime } = portal;
  const { customerId, ctx, method, action } = turn;
  const redirectUri = portal.testRedirectUri(customerId);
  const client = await store.getOidcClient(customerId);
  // The start form's POST answers a redirect to the IdP, which CSP form-action must allow.
  if (client) {
    const target = await authorizationOrigin(runtime, client);
    if (target)
      turn.headers['Content-Security-Policy'] = turn.headers['Content-Security-Policy']!.replace("form-action 'self'", `form-action 'self' ${target}`);
  }
  if (method === 'GET' && action === 'test') return turn.page(200, testStartPage(ctx, redirectUri, client !== null));
  if (!client) return turn.page(409, testStartPage(ctx, redirectUri, false));
  if (method === 'POST' && action === 'test') return startTest(portal, turn, client, redirectUri);
  if (method === 'GET' && action === 'test/callback') return finishTest(portal, turn, client, redirectUri);
  return null;
}

async function startTest(portal: Portal, turn: PortalTurn, client: StoredOidcClient, redirectUri: string): Promise<DashboardResponse> {
  const hint = typeof turn.form.loginHint === 'string' && turn.form.loginHint.length <= 300 ? turn.form.loginHint.trim() : '';
  let started;
  try {
    started = await startTestLogin(portal.runtime, client, turn.session, redirectUri, turn.ctx.base, turn.secure, hint || null);
  } catch {
    return turn.page(
      502,
      testStartPage(
        turn.ctx,
        redirectUri,
        true,
        'Your IdP could not be reached to start the login (its discovery document failed). Check the issuer on the Single sign-on page.',
      ),
    );
  }
  turn.cookies.push(started.cookie);
  return turn.redirect(started.location);
}

async function finishTest(portal: Portal, turn: PortalTurn, client: StoredOidcClient, redirectUri: string): Promise<DashboardResponse> {
  const { store, audit } = portal;
  const { customerId, ctx } = turn;
  turn.cookies.push(clearTestCookie(ctx.base, turn.secure));
  const callbackUrl = new URL(redirectUri);
  callbackUrl.search = turn.request.query.toString();
  const finished = await finishTestLogin(portal.runtime, client, turn.session, turn.request.headers, callbackUrl);
  if (!finished.ok) {
    audit({ type: 'setup.test_login', outcome: 'failure', customerId, reason: 'login_failed' });
    return turn.page(400, testStartPage(ctx, redirectUri, true, finished.problem));
  }
  const connection = await store.getConnectionByCustomer(customerId);
  const { strategy, idp } = await clientAndIdp(store, customerId);
  const connectionId = connection?.connectionId ?? null;
  const { identity, current, result } = await evaluateTestLogin(
    store,
    connectionId,
    client,
    finished.claims,
    strategy,
    idp,
    portal.options.requireVerifiedEmail,
  );
  // As the page says: refused before matching, or the current strategy's decision.
  const reason = result.refusedFirst?.code ?? (current.decision.admit ? null : current.decision.reason);
  audit({
    type: 'setup.test_login',
    outcome: reason === null ? 'success' : 'failure',
    customerId,
    connectionId,
    subject: identity.subject,
    strategy,
    ...(reason === null ? {} : { reason }),
  });
  return turn.page(200, testResultPage(ctx, result));
}
