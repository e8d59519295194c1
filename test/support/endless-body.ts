/**
 * A client that never stops sending a body: the request head, then chunks as fast as the server takes them
 * (up to 64 MB), until the server closes the connection. For tests that a refused body is not read on.
 */
import { connect } from 'node:net';

/** What the server answered before it closed, and how many body bytes the client had sent by then. */
export interface EndlessPost {
  /** The response text received (its head first). */
  head: string;
  sent: number;
}

/** Sends `requestHead` (ending in an empty line) to `origin`, then `chunk` again and again, chunk-encoded when `chunked`. */
export async function endlessPost(origin: string, requestHead: string, chunk: string, chunked: boolean): Promise<EndlessPost> {
  const { hostname, port } = new URL(origin);
  const socket = connect(Number(port), hostname);
  let sent = 0;
  let head = '';
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.on('error', () => {});
  socket.setEncoding('utf8');
  socket.on('data', (data: string) => (head += data));
  socket.write(requestHead);
  const pump = () => {
    while (!socket.destroyed && sent < 64 * 1024 * 1024) {
      sent += chunk.length;
      if (!socket.write(chunked ? `${chunk.length.toString(16)}\r\n${chunk}\r\n` : chunk)) return void socket.once('drain', pump);
    }
  };
  pump();
  await closed;
  return { head, sent };
}
