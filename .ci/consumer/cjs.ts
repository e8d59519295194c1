// A CommonJS app (no "type": "module" in its package.json), as many Express apps are: its imports compile to
// require(), which loads scim-sso (an ES module) on Node >= 20.19.
import type { AddressInfo } from 'node:net';
import express from 'express';
import { memoryStore } from 'scim-sso';
import { scimSso } from 'scim-sso/express';

async function main(): Promise<void> {
  const sso = scimSso({ store: memoryStore() });
  const { token } = await sso.createScimConnection({ customerId: 'acme' });
  const app = express();
  app.use(sso);
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const created = await fetch(`${origin}/scim/v2/Users`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
    body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'ann@acme.test' }),
  });
  server.close();
  if (created.status !== 201) throw new Error(`cjs: ${created.status}`);
  console.log('cjs ok');
}
void main();
