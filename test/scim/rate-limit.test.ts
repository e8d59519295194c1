import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RateLimiter } from '../../src/scim/rate-limit.js';
import { ADAPTERS } from '../support/adapters.js';
import { scimTestApp, type ScimTestApp } from '../support/app.js';

describe('the per-connection token bucket', () => {
  it('allows the burst, then asks to wait whole seconds, and refills at the sustained rate', () => {
    const limiter = new RateLimiter({ requestsPerSecond: 2, burst: 3 });
    const t0 = 1_000_000;
    expect([limiter.take('a', t0), limiter.take('a', t0), limiter.take('a', t0)]).toEqual([0, 0, 0]);
    expect(limiter.take('a', t0)).toBe(1);
    expect(limiter.take('b', t0)).toBe(0); // another connection has its own bucket
    expect(limiter.take('a', t0 + 500)).toBe(0); // half a second at 2/s refills one request
    expect(limiter.take('a', t0 + 500)).toBe(1);
  });

  it('asks for a longer wait when the sustained rate is below one request per second', () => {
    const limiter = new RateLimiter({ requestsPerSecond: 0.25, burst: 1 });
    expect(limiter.take('a', 0)).toBe(0);
    expect(limiter.take('a', 0)).toBe(4);
  });
});

describe('the bucket map is bounded', () => {
  it('never holds more buckets than its capacity, however many connections send requests', () => {
    const limiter = new RateLimiter({ requestsPerSecond: 1, burst: 2 }, 50);
    for (let i = 0; i < 1000; i++) limiter.take(`connection-${i}`, 0);
    expect(limiter.size).toBe(50);
  });

  it('keeps the buckets in use: a busy connection stays limited while others come and go', () => {
    const limiter = new RateLimiter({ requestsPerSecond: 1, burst: 2 }, 10);
    expect([limiter.take('busy', 0), limiter.take('busy', 0), limiter.take('busy', 0)]).toEqual([0, 0, 1]);
    for (let i = 0; i < 100; i++) {
      limiter.take(`other-${i}`, 0);
      expect(limiter.take('busy', 0)).toBe(1); // still spent: its bucket is the most recently used
    }
    expect(limiter.size).toBe(10);
  });
});

describe.each(ADAPTERS)('SCIM rate limiting through %s', (adapter) => {
  let t: ScimTestApp;
  beforeAll(async () => {
    t = await scimTestApp('memory', `rate-${adapter}`, { rateLimit: { requestsPerSecond: 1, burst: 5 } }, adapter);
  });
  afterAll(async () => {
    await t.cleanup();
  });

  it('answers 429 with an integer Retry-After and a SCIM error body once the burst is spent', async () => {
    const statuses: number[] = [];
    let limited: { headers: Record<string, string>; body: Record<string, unknown> } | null = null;
    for (let i = 0; i < 8; i++) {
      const res = await t.http.get('/scim/v2/Users').set(t.auth);
      statuses.push(res.status);
      if (res.status === 429) limited = res;
    }
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(statuses.slice(5)).toContain(429);
    expect(limited!.headers['retry-after']).toMatch(/^[1-9]\d*$/);
    expect(limited!.body).toEqual({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
      status: '429',
      detail: 'too many requests for this connection; retry later',
    });
  });
});
