/**
 * One request of a customer's setup portal once its session is checked (src/setup/index.ts), as the portal's
 * route modules (scim-routes.ts, sso-routes.ts, test-routes.ts) read it, and what the portal hands them.
 */
import type { AuditEventInput } from '../events.js';
import type { LoginRuntime } from '../guard/passport.js';
import { isMatchingStrategy, type MatchingStrategy } from '../match/strategies.js';
import { DEFAULT_STRATEGY } from '../oidc-clients.js';
import type { ResolvedOptions } from '../options.js';
import type { ScimSsoCore } from '../sso.js';
import type { Store, StoredOidcClient } from '../store/store.js';
import type { CookieRequest } from '../dashboard/csrf.js';
import type { Flash } from '../dashboard/flash.js';
import type { DashboardRequest, DashboardResponse } from '../dashboard/index.js';
import { idpOfType, type SetupIdp } from './idp-steps.js';
import type { PortalContext } from './layout.js';
import type { PortalSession } from './session.js';

/** One request of the portal, of a customer whose session it carries. */
export interface PortalTurn {
  request: DashboardRequest;
  method: 'GET' | 'POST';
  /** The path below the customer's portal path: '', 'scim', 'scim/token', 'sso', 'test', … */
  action: string;
  /** The POSTed form (CSRF checked); empty for a GET. */
  form: Record<string, unknown>;
  customerId: string;
  session: PortalSession;
  ctx: PortalContext;
  /** Whether the portal's cookies are Secure. */
  secure: boolean;
  /** The answer's headers, which a route may still change (the test login's CSP `form-action`). */
  headers: Record<string, string>;
  /** Set-Cookie lines of the answer. */
  cookies: string[];
  /** The one-time token reveal after a redirect (src/dashboard/flash.ts), and the cookies it reads and sets. */
  flash: Flash;
  cookieReq: CookieRequest;
  setCookie: (line: string) => void;
  page(status: number, body: string): DashboardResponse;
  redirect(location: string): DashboardResponse;
  fail(status: number, title: string, message: string): DashboardResponse;
}

/** What every page of the portal shares: the scim-sso instance and the portal's settings. */
export interface Portal {
  sso: ScimSsoCore;
  store: Store;
  runtime: LoginRuntime;
  options: Readonly<ResolvedOptions>;
  scimBaseUrl: string;
  /** Whether the instance keeps an activity log (`activityLog` not false). */
  keepsLog: boolean;
  loginRedirectUri(customerId: string): string;
  testRedirectUri(customerId: string): string;
  audit(event: Omit<AuditEventInput, 'actor' | 'connectionId'> & { connectionId?: string | null }): void;
}

/** The customer's OIDC client, the matching strategy its logins use, and the IdP the setup steps show. */
export async function clientAndIdp(store: Store, customerId: string): Promise<{ client: StoredOidcClient | null; strategy: MatchingStrategy; idp: SetupIdp }> {
  const client = await store.getOidcClient(customerId);
  const strategy: MatchingStrategy =
    client && isMatchingStrategy(client.matchingStrategy) ? client.matchingStrategy : DEFAULT_STRATEGY[client?.idpType ?? 'Okta'];
  return { client, strategy, idp: idpOfType(client?.idpType) };
}
