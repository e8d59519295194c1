/**
 * Bodies arriving at once per SCIM connection (src/scim/body-reads.ts): past MAX_BODIES_READ_AT_ONCE slow
 * bodies, the next request of that connection is refused unread (429, Retry-After, the connection closed);
 * other connections are served, and the connection is served again once its bodies have arrived.
 */
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BODIES_READ_AT_ONCE } from '../../src/scim/body-reads.js';
import { scimSso } from '../support/sso.js';

describe('request bodies arriving at once, per SCIM connection', () => {
  let server: Server;
  let origin: string;
  let slowToken: string;
  let otherToken: string;
  beforeAll(async () => {
    const sso = scimSso({ rateLimit: false });
    slowToken = (await sso.createScimConnection({ customerId: 'slow-bodies' })).token;
    otherToken = (await sso.createScimConnection({ customerId: 'other-bodies' })).token;
    server = createServer(express().use(sso));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => server?.close());

  const user = (name: string) => JSON.stringify({ userName: name });
  const post = (token: string, name: string) =>
    fetch(`${origin}/scim/v2/Users`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/scim+json' },
      body: user(name),
    });

  /** A POST whose head and first byte are sent now; `finish` sends the rest and answers the status line. */
  function slowPost(name: string): { socket: Socket; finish: () => Promise<string> } {
    const body = user(name);
    const { port } = new URL(origin);
    const socket = connect(Number(port), '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk));
    const head = `POST /scim/v2/Users HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${slowToken}\r\nContent-Type: application/scim+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`;
    socket.write(head + body.slice(0, 1));
    const finish = () =>
      new Promise<string>((resolve) => {
        socket.on('end', () => resolve(answer.split('\r\n', 1)[0]!));
        socket.write(body.slice(1));
      });
    return { socket, finish };
  }

  /** A POST on a keep-alive connection: the answer's head and what came of its body within 500 ms. */
  function keptAlivePost(body: string): Promise<string> {
    const { port } = new URL(origin);
    const socket = connect(Number(port), '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk));
    socket.write(
      `POST /scim/v2/Users HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${slowToken}\r\nContent-Type: application/scim+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    return new Promise((resolve) => {
      const done = () => {
        socket.destroy();
        resolve(answer);
      };
      socket.on('end', done);
      setTimeout(done, 500);
    });
  }

  it(`refuses a connection's next body past ${MAX_BODIES_READ_AT_ONCE} arriving, and only that connection's`, async () => {
    const slow = Array.from({ length: MAX_BODIES_READ_AT_ONCE }, (_, i) => slowPost(`slow-${i}`));
    // Each slow body counts once its request is authenticated and its read starts: ask until they all have.
    // The probe's body (padded past the 16 KB a refused body may be drained) is sent whole, on a connection
    // it does not ask to close.
    let refused = '';
    for (let attempt = 0; attempt < 100 && !refused.startsWith('HTTP/1.1 429'); attempt++) {
      refused = await keptAlivePost(user(`probe-${attempt}`) + ' '.repeat(17_000));
      if (!refused.startsWith('HTTP/1.1 429')) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(refused).toMatch(/^HTTP\/1\.1 429 /);
    expect(refused).toMatch(/\r\nRetry-After: 1\r\n/i);
    expect(refused).toMatch(/\r\nConnection: close\r\n/i);
    expect(refused).toContain(`${MAX_BODIES_READ_AT_ONCE} request bodies of this connection are arriving already`);
    // Another connection is served meanwhile.
    expect((await post(otherToken, 'other-0')).status).toBe(201);
    // Once the slow bodies have arrived, each is created, and the connection takes bodies again.
    const statuses = await Promise.all(slow.map((s) => s.finish()));
    expect(statuses).toEqual(Array<string>(MAX_BODIES_READ_AT_ONCE).fill('HTTP/1.1 201 Created'));
    expect((await post(slowToken, 'after-0')).status).toBe(201);
  });
});
