/**
 * One HTTP/1.1 request written to the socket as given, for what a client library would not send (an
 * absolute-form request target, `GET http://host/path`): the whole answer as text, head and body, once the
 * server closes the connection (`Connection: close` is added to the headers). `body` is sent as it is after
 * the head.
 */
import { connect } from 'node:net';

export function rawHttp(origin: string, requestLine: string, headers: Record<string, string> = {}, body = ''): Promise<string> {
  const { port, hostname } = new URL(origin);
  const head = Object.entries({ Host: `${hostname}:${port}`, ...headers, Connection: 'close' })
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  return new Promise<string>((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(`${requestLine}\r\n${head}\r\n${body}`));
    let text = '';
    socket.on('data', (chunk) => (text += chunk));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
}
