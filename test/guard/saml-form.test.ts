/** The ACS form reader (src/guard/saml-form.ts) on a real socket: a body that stops short ends at the deadline. */
import { createServer, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SsoLoginError } from '../../src/errors.js';
import { readSamlForm } from '../../src/guard/saml-form.js';

const servers: ReturnType<typeof createServer>[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
});

/** A server whose one request is handed to `read`; answers what `read` settled with. */
async function serveOnce(read: (req: IncomingMessage) => Promise<unknown>): Promise<{ port: number; outcome: Promise<unknown> }> {
  let settle: (value: unknown) => void = () => {};
  const outcome = new Promise<unknown>((resolve) => (settle = resolve));
  const server = createServer((req, res) => {
    read(req).then(settle, settle);
    req.on('close', () => res.destroy());
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { port: (server.address() as AddressInfo).port, outcome };
}

describe('readSamlForm', () => {
  it('refuses a body that stops short with 408 at its deadline, dropping what came', async () => {
    const { port, outcome } = await serveOnce((req) => readSamlForm(req, undefined, 'acme', 200));
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => {});
    const started = Date.now();
    socket.write('POST /acs HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nSAMLResponse=abc');
    const error = await outcome;
    socket.destroy();
    expect(error).toBeInstanceOf(SsoLoginError);
    expect(error).toMatchObject({ status: 408, code: 'invalid_response' });
    expect((error as Error).message).toMatch(/did not arrive within 1 s/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
  });

  it('reads a whole body sent slowly within the deadline', async () => {
    const { port, outcome } = await serveOnce((req) => readSamlForm(req, undefined, 'acme', 2_000));
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => {});
    const body = 'SAMLResponse=PHg%2B&RelayState=r';
    socket.write(
      `POST /acs HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 5)}`,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    socket.write(body.slice(5));
    const form = await outcome;
    socket.destroy();
    expect({ ...(form as object) }).toEqual({ SAMLResponse: 'PHg+', RelayState: 'r' });
  });
});
