/**
 * How long `sso.matchingReport` (and the SCIM Matching page built on it) takes on 10,000 SSO users and
 * 10,000 SCIM users. Not a test (nothing is asserted about time): run it by hand and read the numbers.
 *
 *   REDIS_URL=redis://127.0.0.1:6379 npx tsx test/dashboard/report-scale.ts [users]
 *
 * Seeds through the store API in parallel batches under a random key prefix, which it deletes afterwards.
 * The directory: 70% of people match by email, 20% have an email unlike their userName but sub =
 * externalId, 5% are deactivated in SCIM, 5% were never provisioned (and as many SCIM users never logged in).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import express from 'express';
import { Redis } from 'ioredis';
import supertest from 'supertest';
import { memoryStore } from '../../src/index.js';
import { redisStore } from '../../src/redis.js';
import { scimSso } from '../support/sso.js';
import { dashboard } from '../../src/express/dashboard.js';
import { userSpec } from '../../src/scim/users.js';
import type { Store } from '../../src/store/store.js';

const N = Number(process.argv[2] ?? 10_000);
const CUSTOMER = 'scale';
const BATCH = 500;

async function inBatches(count: number, task: (i: number) => Promise<unknown>): Promise<void> {
  for (let start = 0; start < count; start += BATCH) {
    await Promise.all(Array.from({ length: Math.min(BATCH, count - start) }, (_, k) => task(start + k)));
  }
}

async function seed(store: Store): Promise<void> {
  const now = new Date().toISOString();
  const connectionId = randomUUID();
  await store.createConnection({
    connectionId,
    customerId: CUSTOMER,
    displayName: 'Scale',
    tokenHash: randomBytes(32).toString('hex'),
    previousTokenHash: null,
    previousTokenExpiresAt: null,
    createdAt: now,
  });
  await store.createOidcClient({
    oidcClientId: randomUUID(),
    customerId: CUSTOMER,
    idpType: 'Okta',
    issuer: 'https://idp.example.test',
    clientId: 'scale-app',
    clientSecret: null,
    redirectUri: 'https://app.example.test/cb',
    matchingStrategy: 'OidcEmailToScimUsername',
    subjectClaim: 'sub',
    claimsSource: 'auto',
    scopes: ['openid', 'email'],
    createdAt: now,
    updatedAt: now,
  });
  const kind = (i: number) => (i % 20 < 14 ? 'email' : i % 20 < 18 ? 'renamed' : i % 20 === 18 ? 'inactive' : 'none');
  await inBatches(N, async (i) => {
    const userName = kind(i) === 'renamed' ? `u${i}@legacy.example.test` : kind(i) === 'none' ? `other${i}@example.test` : `user${i}@example.test`;
    const user = {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      id: randomUUID(),
      userName,
      externalId: kind(i) === 'none' ? `00x${i}` : `00u${i}`,
      active: kind(i) !== 'inactive',
      emails: [{ value: kind(i) === 'none' ? userName : `user${i}@example.test`, primary: true }],
      meta: { resourceType: 'User', created: now, lastModified: now },
    };
    const outcome = await store.createResource(connectionId, userSpec.toWrite(user));
    if (!outcome.ok) throw new Error(`seeding user ${i}: ${JSON.stringify(outcome)}`);
  });
  await inBatches(N, (i) =>
    store.recordSsoUser(CUSTOMER, {
      subject: `00u${i}`,
      email: `user${i}@example.test`,
      emailVerified: true,
      preferredUsername: `user${i}@example.test`,
      name: `User ${i}`,
      claims: { sub: `00u${i}`, email: `user${i}@example.test`, name: `User ${i}` },
      firstSeenAt: now,
      lastSeenAt: now,
      lastOutcome: 'refused',
      lastReason: 'not_provisioned',
      lastScimUserId: null,
    }),
  );
}

async function measure(label: string, store: Store): Promise<void> {
  const t0 = performance.now();
  await seed(store);
  const seeded = performance.now() - t0;
  const sso = scimSso({ store });
  const runs: number[] = [];
  let report;
  for (let run = 0; run < 5; run++) {
    const start = performance.now();
    report = await sso.matchingReport(CUSTOMER);
    runs.push(performance.now() - start);
  }
  const app = express();
  app.use(dashboard(sso, { authorize: () => true }));
  const start = performance.now();
  const page = await supertest(app).get(`/admin/customers/${CUSTOMER}/matching`);
  const pageMs = performance.now() - start;
  const counts = report!.strategies.map((s) => `${s.strategy}: ${s.admitted.count}/${s.inactive.count}/${s.affected.count}/${s.ambiguous.count}`);
  console.log(`${label}: ${report!.totals.ssoUsers} SSO users + ${report!.totals.scimUsers} SCIM users (seeded in ${(seeded / 1000).toFixed(1)} s)`);
  console.log(`  matchingReport: ${runs.map((ms) => `${ms.toFixed(0)} ms`).join(', ')} (5 runs)`);
  console.log(`  SCIM Matching page: ${pageMs.toFixed(0)} ms, ${(page.text.length / 1024).toFixed(0)} KiB, status ${page.status}`);
  console.log(`  recommended ${report!.recommendedStrategy}; admitted/inactive/affected/ambiguous per strategy:\n    ${counts.join('\n    ')}`);
}

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const prefix = `scale:${randomBytes(6).toString('hex')}:`;
try {
  await measure('redis', redisStore({ client: redis, prefix }));
  await measure('memory', memoryStore());
} finally {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await redis.unlink(...keys);
  } while (cursor !== '0');
  await redis.quit();
}
