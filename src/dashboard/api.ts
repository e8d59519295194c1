/**
 * What the dashboard uses of a scim-sso instance: the public management API, the store's admin reads and the
 * instance default of requireVerifiedEmail. Kept to a Pick so the dashboard cannot reach past them by accident.
 */
import type { ScimSsoCore } from '../sso.js';
import type { Store } from '../store/store.js';

export type DashboardApi = Pick<
  ScimSsoCore,
  | 'fetchScimConnection'
  | 'fetchOidcClient'
  | 'updateOidcClient'
  | 'fetchSamlConnection'
  | 'updateSamlConnection'
  | 'rotateScimToken'
  | 'matchingReport'
  | 'fetchRoleMapping'
  | 'setRoleMapping'
  | 'activity'
> & {
  readonly store: Store;
  readonly options: { readonly requireVerifiedEmail: boolean };
};

/** The statuses an SSO user's last login can show. PropelAuth calls a never-provisioned one "Inactive". */
export function ssoStatus(user: { lastOutcome: 'admitted' | 'refused'; lastReason: string | null }): { label: string; ok: boolean } {
  if (user.lastOutcome === 'admitted') return { label: 'Admitted', ok: true };
  if (user.lastReason === 'not_provisioned') return { label: 'Inactive', ok: false };
  return { label: `Refused: ${user.lastReason ?? 'unknown'}`, ok: false };
}

/** A 0-based offset from a query parameter (default 0; junk counts as 0). */
export function offsetParam(value: unknown): number {
  const n = typeof value === 'string' && /^\d{1,9}$/.test(value) ? Number(value) : 0;
  return Number.isSafeInteger(n) ? n : 0;
}
