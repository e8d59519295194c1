/**
 * What the activity log keeps of a refused or failed login (docs/activity.md), the same for OIDC
 * (src/guard/passport.ts) and SAML (src/guard/saml.ts) logins.
 */
import { loggedClaim, type LoginEntry } from '../activity/entries.js';
import type { GuardResult } from './contract.js';

/** Receives refused and failed logins (the activity log's recorder); absent when the log is off. */
export type OnLoginRefused = (customerId: string, entry: LoginEntry) => void;

/** The entry of a login the guard refused: who, under which strategy, and the SCIM user it found. */
export function refusedEntry(result: GuardResult, reason: string): LoginEntry {
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

/** The entry of a login that broke before a decision, by its SsoLoginError code. */
export function failedEntry(code: string): LoginEntry {
  return { at: new Date().toISOString(), outcome: 'failed', reason: code, strategy: null, subject: null, email: null, scimUserId: null };
}

/** Hands an entry to the listener; a throwing listener never changes the login's answer. */
export function recordRefusal(listener: OnLoginRefused | undefined, customerId: string, entry: LoginEntry): void {
  try {
    listener?.(customerId, entry);
  } catch {
    // The activity log is diagnostics; the login's own answer matters more.
  }
}
