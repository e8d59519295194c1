/**
 * The guard on fetches a customer can point anywhere (src/net/outbound-fetch.ts): private, loopback,
 * link-local and other special addresses refused, public ones allowed, and answers capped in bytes.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { isPublicAddress, outboundFetch, OutboundFetchError, type HostResolver } from '../src/net/outbound-fetch.js';
import { LoginRuntime } from '../src/guard/passport.js';
import { SsoLoginError } from '../src/errors.js';
import { memoryStore } from '../src/store/memory.js';
import { makeOidcClient } from './store/contract.js';

describe('isPublicAddress', () => {
  it.each(['127.0.0.1', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1'])(
    'refuses %s',
    (address) => expect(isPublicAddress(address)).toBe(false),
  );
  it.each([
    '::1',
    '::',
    'fe80::1',
    'fd00:ec2::254',
    'fc00::1',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    '::ffff:7f00:1',
    '::7f00:1',
    '2002:7f00:1::1',
    'fec0::1',
    '64:ff9b:1::1',
    '100::1',
    '2001::1',
    '2001:0:4136:e378:8000:63bf:3fff:fdd2',
    '2001:db8::1',
    '3fff::1',
    '5f00::1',
    'ff02::1',
    'not-an-ip',
  ])('refuses %s', (address) => expect(isPublicAddress(address)).toBe(false));
  it.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '2606:4700:4700::1111', '2001:4860:4860::8888', '::ffff:8.8.8.8'])('allows %s', (address) =>
    expect(isPublicAddress(address)).toBe(true),
  );
});

describe('outboundFetch', () => {
  async function withServer(body: string | ((res: ServerResponse) => void), run: (origin: string) => Promise<void>) {
    const server = createServer((_req, res) => (typeof body === 'string' ? res.end(body) : body(res))).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      await run(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  }

  it('refuses loopback, private and metadata hosts unless private addresses are allowed', async () => {
    await withServer('{"ok":true}', async (origin) => {
      const guarded = outboundFetch({ maxBytes: 1000, allowPrivate: false });
      await expect(guarded(`${origin}/x`)).rejects.toThrow(OutboundFetchError);
      await expect(guarded('http://localhost:1/x')).rejects.toThrow(/not a public address/);
      await expect(guarded('http://169.254.169.254/latest/meta-data/')).rejects.toThrow(/not a public address/);
      await expect(guarded('http://[::1]:1/')).rejects.toThrow(/not a public address/);
      const open = outboundFetch({ maxBytes: 1000, allowPrivate: true });
      expect(await (await open(`${origin}/x`)).json()).toEqual({ ok: true });
    });
  });

  it('reads at most maxBytes of an answer', async () => {
    await withServer('x'.repeat(5000), async (origin) => {
      await expect(outboundFetch({ maxBytes: 1000, allowPrivate: true })(origin)).rejects.toThrow(/larger than 1000 bytes/);
      expect((await (await outboundFetch({ maxBytes: 5000, allowPrivate: true })(origin)).text()).length).toBe(5000);
    });
  });

  it('counts the bytes of an answer without a declared length (chunked) as they arrive', async () => {
    const chunked = (res: ServerResponse) => {
      for (let i = 0; i < 5; i++) res.write('x'.repeat(1000));
      res.end();
    };
    await withServer(chunked, async (origin) => {
      await expect(outboundFetch({ maxBytes: 4999, allowPrivate: true })(origin)).rejects.toThrow(/larger than 4999 bytes/);
      expect((await (await outboundFetch({ maxBytes: 5000, allowPrivate: true })(origin)).text()).length).toBe(5000);
    });
  });

  it('counts a compressed answer by its decompressed bytes, not its declared length', async () => {
    const packed = gzipSync('x'.repeat(100_000));
    const gzipped = (res: ServerResponse) => {
      res.writeHead(200, { 'content-encoding': 'gzip', 'content-length': packed.length });
      res.end(packed);
    };
    await withServer(gzipped, async (origin) => {
      expect(packed.length).toBeLessThan(1000);
      await expect(outboundFetch({ maxBytes: 1000, allowPrivate: true })(origin)).rejects.toThrow(/larger than 1000 bytes/);
      expect((await (await outboundFetch({ maxBytes: 100_000, allowPrivate: true })(origin)).text()).length).toBe(100_000);
    });
  });
});

describe('outboundFetch reads answers as the Fetch API would', () => {
  async function withRaw(handler: (req: IncomingMessage, res: ServerResponse) => void, run: (origin: string, seen: IncomingMessage[]) => Promise<void>) {
    const seen: IncomingMessage[] = [];
    const server = createServer((req, res) => {
      seen.push(req);
      handler(req, res);
    }).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      await run(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  }
  const open = outboundFetch({ maxBytes: 100_000, allowPrivate: true });
  const packed = gzipSync('{"ok":true}');

  it('rejects with the timeout, not hanging, when a compressed answer stalls or its connection drops midway', async () => {
    await withRaw(
      (req, res) => {
        res.writeHead(200, { 'content-encoding': 'gzip' });
        res.write(packed.subarray(0, 10));
        if (req.url === '/drop') setTimeout(() => res.socket?.destroy(), 50);
      },
      async (origin) => {
        const stalled = await open(`${origin}/stall`, { signal: AbortSignal.timeout(200) }).catch((error: unknown) => error);
        expect(stalled).toMatchObject({ name: 'TimeoutError' });
        await expect(open(`${origin}/drop`)).rejects.toThrow();
      },
    );
  });

  it('takes an empty compressed answer and a 304 as empty, refuses stacked encodings, and sends Accept and User-Agent', async () => {
    await withRaw(
      (req, res) => {
        if (req.url === '/empty') res.writeHead(200, { 'content-encoding': 'gzip' }).end();
        else if (req.url === '/unchanged') res.writeHead(304, { 'content-encoding': 'gzip' }).end();
        else res.writeHead(200, { 'content-encoding': 'gzip, br' }).end(packed);
      },
      async (origin, seen) => {
        expect(await (await open(`${origin}/empty`)).text()).toBe('');
        expect((await open(`${origin}/unchanged`)).status).toBe(304);
        await expect(open(`${origin}/stacked`)).rejects.toThrow(OutboundFetchError);
        expect(seen[0]!.headers).toMatchObject({ accept: '*/*', 'user-agent': 'scim-sso', 'accept-encoding': 'gzip, deflate' });
      },
    );
  });
});

describe('outboundFetch against DNS rebinding', () => {
  it('connects to the address it checked: a name is resolved once, by the connection, and a private answer is refused', async () => {
    const received: string[] = [];
    const server = createServer((req, res) => {
      received.push(`${req.method} ${req.url}`);
      res.end('{}');
    }).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      // A rebinding DNS server: a public (unroutable, TEST-NET-1) address first, loopback on every later query.
      let queries = 0;
      const rebinding: HostResolver = (_host, callback) => {
        queries++;
        callback(null, [{ address: queries === 1 ? '192.0.2.1' : '127.0.0.1', family: 4 }]);
      };
      const guarded = outboundFetch({ maxBytes: 1000, allowPrivate: false, resolve: rebinding });
      // Before, the address was checked with one query and the connection made a second: it reached loopback.
      const first = await guarded(`http://idp.rebind.test:${port}/internal`, { signal: AbortSignal.timeout(300) }).catch((error: unknown) => error);
      expect(first).toBeInstanceOf(Error);
      expect(queries).toBe(1);
      // The next request's query answers loopback: refused where the connection resolves it.
      await expect(guarded(`http://idp.rebind.test:${port}/internal`, { method: 'POST', body: 'x' })).rejects.toThrow(/not a public address/);
      expect(queries).toBe(2);
      expect(received).toEqual([]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('every request to an OIDC IdP goes through the guard', () => {
  it('refuses a login whose issuer is a loopback, private or metadata address (a clear idp_error, no request made)', async () => {
    const runtime = new LoginRuntime(memoryStore(), { allowHttpIssuers: false, retryAfterSeconds: 5 });
    for (const issuer of ['https://127.0.0.1:1/t', 'https://169.254.169.254/latest', 'https://10.1.2.3/t']) {
      const failure = await runtime.configuration(makeOidcClient('guarded', { issuer })).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(SsoLoginError);
      expect(failure).toMatchObject({ code: 'idp_error', status: 400 });
      expect(String((failure as Error).message)).toMatch(/not a public address/);
    }
  });
});
