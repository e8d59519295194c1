/**
 * How a login's end is reported, the same for OIDC (src/guard/passport.ts) and SAML (src/guard/saml.ts):
 * one audit event (`login.admitted`, `login.refused`, `login.failed`), and for a refused or failed login an
 * entry of the customer's activity log (docs/activity.md).
 */
import { loggedClaim, type LoginEntry } from '../activity/entries.js';
import type { ScimUserNotActive } from '../errors.js';
import type { Emit } from '../events.js';
import type { GuardResult } from './contract.js';
import { refusal } from './guard.js';
import { toLoginError } from './login-errors.js';

/** Receives refused and failed logins (the activity log's recorder); absent when the log is off. */
export type OnLoginRefused = (customerId: string, entry: LoginEntry) => void;

/** Where a login's end is reported. */
export interface LoginReporters {
  emit: Emit;
  onLoginRefused?: OnLoginRefused | undefined;
}

/** The entry of a login the guard refused: who, under which strategy, and the SCIM user it found. */
function refusedEntry(result: GuardResult, reason: string): LoginEntry {
  return {
    at: new Date().toISOString(),
    outcome: 'refused',
    reason,
    strategy: result.strategy,
    subject: loggedClaim(result.identity.subject),
    email: loggedClaim(result.identity.email),
    scimUserId: result.decision.scimUser?.id ?? null,
  };
}

/** Hands an entry to the listener; a throwing listener never changes the login's answer. */
function record(reporters: LoginReporters, customerId: string, entry: LoginEntry): void {
  try {
    reporters.onLoginRefused?.(customerId, entry);
  } catch {
    // The activity log is diagnostics; the login's own answer matters more.
  }
}

/**
 * Failed logins anybody can cause that a customer's activity log takes per second from one instance, and in
 * a burst (the rest go to the audit trail only): posts to the SAML ACS, and logins of any account of a shared
 * issuer refused as outside the tenant. Kept in the 100-entry log, a slow sender would push every real
 * refusal out within minutes.
 */
export const ANONYMOUS_FAILURES_LOGGED = { requestsPerSecond: 0.2, burst: 10 };

/** Reports a login that broke before a decision; answers the error to fail it with (a login error when it is one). */
export function reportLoginFailure(reporters: LoginReporters, customerId: string, connectionId: string | null, error: unknown): unknown {
  const mapped = toLoginError(error, customerId);
  const reason = mapped?.code ?? 'error';
  reporters.emit({ type: 'login.failed', actor: 'login', outcome: 'failure', customerId, connectionId, reason });
  record(reporters, customerId, { at: new Date().toISOString(), outcome: 'failed', reason, strategy: null, subject: null, email: null, scimUserId: null });
  return mapped ?? error;
}

/** Reports the guard's decision; answers the refusal to fail the login with, or null when it is admitted. */
export function reportDecision(reporters: LoginReporters, customerId: string, connectionId: string | null, result: GuardResult): ScimUserNotActive | null {
  const refused = refusal(result);
  reporters.emit({
    type: refused ? 'login.refused' : 'login.admitted',
    actor: 'login',
    outcome: refused ? 'failure' : 'success',
    customerId,
    connectionId,
    subject: result.identity.subject,
    strategy: result.strategy,
    ...(result.scimUser ? { resourceType: 'User' as const, resourceId: result.scimUser.id } : {}),
    ...(refused ? { reason: refused.reason } : {}),
  });
  if (refused) record(reporters, customerId, refusedEntry(result, refused.reason));
  return refused;
}
