/** The event-loop helpers (src/event-loop.ts): work in chunks yields between them, and keeps order. */
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { mapInChunks, yieldToEventLoop } from '../src/event-loop.js';

describe('yieldToEventLoop', () => {
  it('lets I/O that became ready run before it resolves, also when called from an I/O callback', async () => {
    // A request's body arrives in an I/O callback; the yield after its first phase must let another
    // client's bytes, already on the socket, be read before the second phase (audit 24: one immediate
    // resolved in the same turn of the loop, before the poll).
    const server = createServer();
    const accepted: Socket[] = [];
    server.on('connection', (socket) => accepted.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const [first, second] = await Promise.all(
      [0, 1].map(
        () =>
          new Promise<Socket>((resolve) => {
            const socket = connect(port, '127.0.0.1', () => resolve(socket));
          }),
      ),
    );
    while (accepted.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    const serverSide = (client: Socket) => accepted.find((socket) => socket.remotePort === client.localPort)!;
    let secondRead = false;
    second!.on('data', () => {
      secondRead = true;
    });
    const seenAfterYield = new Promise<boolean>((resolve) =>
      serverSide(first!).once('data', async () => {
        // In an I/O callback: bytes for the other client are sent and given time to arrive on loopback.
        serverSide(second!).write('x');
        const until = Date.now() + 20;
        while (Date.now() < until);
        await yieldToEventLoop();
        resolve(secondRead);
      }),
    );
    first!.write('go');
    expect(await seenAfterYield).toBe(true);
    for (const socket of [first!, second!, ...accepted]) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
});

describe('mapInChunks', () => {
  it('runs at most `size` at once, in order, with other callbacks between chunks', async () => {
    let running = 0;
    let most = 0;
    const between: number[] = [];
    let done = 0;
    const tick = () => {
      between.push(done);
      if (done < 25) setImmediate(tick);
    };
    setImmediate(tick);
    const out = await mapInChunks(
      Array.from({ length: 25 }, (_, i) => i),
      10,
      async (i) => {
        most = Math.max(most, ++running);
        await Promise.resolve();
        running--;
        done++;
        return i * 2;
      },
    );
    expect(out).toEqual(Array.from({ length: 25 }, (_, i) => i * 2));
    expect(most).toBe(10);
    // The ticker ran after the first chunk and after the second, before the work was all done.
    expect(between).toContain(10);
    expect(between).toContain(20);
  });
});
