/**
 * What to tell the customer's IT admin when a login does not find its SCIM user: which mapping to change in
 * the IdP, or which matching strategy would fit, for Test SSO (the refused logins of the activity log get
 * theirs from src/match/refusal-hints.ts, which this reuses for the reasons it does not specialise).
 * Pure functions over the guard's own decisions (src/match/decide.ts).
 */
import type { RefusalReason } from '../match/decide.js';
import { refusalHint } from '../match/refusal-hints.js';
import type { MatchingStrategy } from '../match/strategies.js';
import { comparedBy, IDP_NAMES, mappingFor, type SetupIdp } from './idp-steps.js';

/** A strategy's outcome for one login, as Test SSO computed it. */
export interface StrategyOutcome {
  strategy: MatchingStrategy;
  /** Whether the login carried the claim the strategy needs (a usable one: a verified email for the email strategies). */
  hasClaim: boolean;
  admit: boolean;
  reason: RefusalReason | null;
  /** The userName of the SCIM user it admits (or the deactivated one it found). */
  userName: string | null;
}

export interface HintInput {
  idp: SetupIdp;
  current: MatchingStrategy;
  subjectClaim: string;
  outcomes: StrategyOutcome[];
}

/**
 * The hint for a test login: empty when the current strategy admits it; otherwise what to fix, preferring a
 * change in the IdP (the admin can make it now) and naming the strategy that would fit (the app's team
 * switches strategies).
 */
export function testLoginHints({ idp, current, subjectClaim, outcomes }: HintInput): string[] {
  const now = outcomes.find((o) => o.strategy === current);
  if (!now || now.admit) return [];
  const name = IDP_NAMES[idp];
  const { claim, scimAttribute, localPart } = comparedBy(current, subjectClaim);
  const mapping = mappingFor(idp, current);
  const hints: string[] = [];
  if (!now.hasClaim) {
    hints.push(
      claim === 'email'
        ? `The login carried no usable email (missing, or email_verified is not true): make ${name} release the email claim (scope "email") with a verified address.`
        : `The login carried no ${claim} claim: make ${name} release it (check the scopes and the claims of the app in ${name}).`,
    );
  } else if (now.reason === 'not_provisioned' || now.reason === 'deleted') {
    hints.push(
      `No SCIM user has this login's ${claim}${localPart ? ' (before "@")' : ''} as its ${scimAttribute}. In ${name}, map ${mapping.scimAttribute} ← ${mapping.idpAttribute} in the SCIM app, make sure this person is assigned (provisioned), then push the user again.`,
    );
  } else if (now.reason) {
    hints.push(refusalHint(now.reason, current));
  }
  const fits = outcomes.filter((o) => o.strategy !== current && o.admit);
  for (const fit of fits) {
    hints.push(
      `The strategy ${fit.strategy} would admit this login as SCIM user "${fit.userName ?? '?'}": ask the app's team to switch to it if that is how your directory is set up.`,
    );
  }
  return hints;
}
