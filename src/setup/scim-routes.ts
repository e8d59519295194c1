/**
 * The setup portal's SCIM pages: `GET scim` (base URL, the token once after it is issued, status, the
 * IdP's steps) and `POST scim/token` (create the connection or rotate its token with an hour's grace).
 */
import { DEFAULT_GRACE_SECONDS } from '../dashboard/index.js';
import type { DashboardResponse } from '../dashboard/index.js';
import { ScimSsoConfigError } from '../errors.js';
import { hashToken } from '../scim/auth.js';
import { isSetupIdp } from './idp-steps.js';
import { clientAndIdp, type Portal, type PortalTurn } from './portal-turn.js';
import { scimPage } from './scim-page.js';

/** The answer to a SCIM page of the portal, or null when `turn` names none. */
export async function scimRoute(portal: Portal, turn: PortalTurn): Promise<DashboardResponse | null> {
  if (turn.method === 'POST' && turn.action === 'scim/token') return issueToken(portal, turn);
  if (turn.method === 'GET' && turn.action === 'scim') return showScim(portal, turn);
  return null;
}

/** POST → 303 → GET: the new token is shown once, on the page the redirect leads to; a reload shows it no more. */
async function issueToken(portal: Portal, turn: PortalTurn): Promise<DashboardResponse> {
  const { sso, store } = portal;
  const { customerId, ctx } = turn;
  const existing = await sso.fetchScimConnection(customerId);
  let token: string;
  try {
    token = existing
      ? (await sso.rotateScimToken(customerId, { graceSeconds: DEFAULT_GRACE_SECONDS })).token
      : (await sso.createScimConnection({ customerId })).token;
  } catch (error) {
    if (error instanceof ScimSsoConfigError && (error.code === 'rotation_conflict' || error.code === 'connection_exists')) {
      return turn.fail(
        409,
        'Conflict',
        'Someone else changed the SCIM token at the same moment. Open the SCIM page again and issue a new token if you need one.',
      );
    }
    throw error;
  }
  const connection = await store.getConnectionByCustomer(customerId);
  portal.audit({ type: 'setup.scim_token_issued', outcome: 'success', customerId, connectionId: connection?.connectionId ?? null });
  turn.flash.put(turn.cookieReq, turn.setCookie, `${ctx.base}/scim`, token, hashToken(token));
  return turn.redirect(`${ctx.base}/scim`);
}

async function showScim(portal: Portal, turn: PortalTurn): Promise<DashboardResponse> {
  const { sso, store } = portal;
  const { customerId, ctx } = turn;
  const [connection, { strategy, idp }, activity] = await Promise.all([
    sso.fetchScimConnection(customerId),
    clientAndIdp(store, customerId),
    portal.keepsLog ? sso.activity(customerId, { limit: 1 }) : null,
  ]);
  const tokenHash = turn.flash.pending(turn.cookieReq) ? ((await store.getConnectionByCustomer(customerId))?.tokenHash ?? null) : null;
  const revealedToken = turn.flash.take(turn.cookieReq, turn.setCookie, `${ctx.base}/scim`, tokenHash);
  const asked = turn.request.query.get('idp');
  return turn.page(
    200,
    scimPage(ctx, {
      scimBaseUrl: portal.scimBaseUrl,
      hasConnection: connection !== null,
      previousTokenExpiresAt: connection?.previousTokenExpiresAt ?? null,
      revealedToken,
      idp: isSetupIdp(asked) ? asked : idp,
      strategy,
      lastRequest: activity ? activity.lastRequest : undefined,
      graceHours: DEFAULT_GRACE_SECONDS / 3600,
    }),
  );
}
