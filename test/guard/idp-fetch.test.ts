/** The OIDC IdP's answers during a login are bounded (src/guard/idp-fetch.ts). */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idpFetch, MAX_OIDC_ANSWER_BYTES } from '../../src/guard/idp-fetch.js';

describe('idpFetch', () => {
  let server: Server;
  let origin: string;
  beforeAll(async () => {
    // /claims?n=<bytes>: a JSON answer of about that many bytes, as a userinfo endpoint with many claims would send.
    server = createServer((req, res) => {
      const bytes = Number(new URL(req.url!, 'http://x').searchParams.get('n'));
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ sub: 's', pad: 'x'.repeat(Math.max(0, bytes - 30)) }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('reads an answer up to MAX_OIDC_ANSWER_BYTES and refuses a larger one before parsing it', async () => {
    const fetch = idpFetch(true);
    const within = await fetch(`${origin}/claims?n=${MAX_OIDC_ANSWER_BYTES - 1024}`, {} as never);
    expect(((await within.json()) as { sub: string }).sub).toBe('s');
    await expect(
      (async () => {
        const over = await fetch(`${origin}/claims?n=${MAX_OIDC_ANSWER_BYTES + 1024}`, {} as never);
        await over.json();
      })(),
    ).rejects.toThrow();
  });
});
