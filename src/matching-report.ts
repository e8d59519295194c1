/** Loads what the matching report needs from the store, in Redis-friendly pages, and builds the report. */
import { candidateOf, matchPolicyOf } from './guard/guard.js';
import type { Store } from './store/store.js';
import { buildMatchingReport, lookupKey, unmatchedLookups, type MatchingReport } from './match/report.js';
import { isMatchingStrategy, type ScimCandidate } from './match/strategies.js';

const PAGE = 500;

/** Every SCIM user of a connection, read in pages of 500 (one round trip each). */
export async function loadScimUsers(store: Store, connectionId: string): Promise<ScimCandidate[]> {
  const users: ScimCandidate[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const page = await store.listPage(connectionId, 'User', offset, PAGE);
    for (const resource of page.resources) users.push(candidateOf(resource));
    if (page.resources.length < PAGE) return users;
  }
}

/** `requireVerifiedEmail` is the instance default, for clients that leave it null. */
export async function matchingReport(store: Store, customerId: string, requireVerifiedEmail = false): Promise<MatchingReport> {
  const [client, connection, ssoUsers] = await Promise.all([
    store.getOidcClient(customerId),
    store.getConnectionByCustomer(customerId),
    store.listSsoUsers(customerId),
  ]);
  const scimUsers = connection ? await loadScimUsers(store, connection.connectionId) : [];
  const input = {
    customerId,
    currentStrategy: client && isMatchingStrategy(client.matchingStrategy) ? client.matchingStrategy : null,
    idpType: client?.idpType ?? null,
    subjectClaim: client?.subjectClaim ?? null,
    ssoUsers,
    scimUsers,
    policy: matchPolicyOf(client, requireVerifiedEmail),
  };
  const first = buildMatchingReport(input);
  if (!connection) return first;
  // Second pass: which of the unmatched lookups a deleted SCIM user once answered (tombstones, pages of 500).
  const pending = unmatchedLookups(first, ssoUsers, input.policy);
  if (pending.length === 0) return first;
  const deletedLookups = new Set<string>();
  for (let i = 0; i < pending.length; i += PAGE) {
    const batch = pending.slice(i, i + PAGE);
    const flags = await store.findDeletedUsers(connection.connectionId, batch);
    batch.forEach((lookup, j) => flags[j] && deletedLookups.add(lookupKey(lookup.attribute, lookup.value)));
  }
  return deletedLookups.size ? buildMatchingReport({ ...input, deletedLookups }) : first;
}
