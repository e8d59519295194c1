/**
 * README "SCIM Matching": reading the matching report. The README shows the region below; the rest makes it
 * a file the typecheck compiles (test/docs/snippets.test.ts).
 */
import { memoryStore } from 'scim-sso';
import { scimSso } from 'scim-sso/express';

const sso = scimSso({ store: memoryStore() });

// #region report
const report = await sso.matchingReport('acme');
report.currentStrategy;       // 'OidcEmailToScimUsername'
report.recommendedStrategy;   // 'OidcSubToScimExternalId'
report.reason;                // 'OidcSubToScimExternalId matches 4 of 4 SSO users to exactly one SCIM user … — the current … matches 2'
report.warnings;              // e.g. an Entra client matching on `sub`, SSO users without an email claim, userNames without a domain
report.strategies;            // per strategy, each as { count, examples } (the first 50): admitted, inactive, deleted, affected (would be refused not_provisioned), ambiguous, unmatchedScimUsers
// #endregion report
