// The core alone: neither Express nor Koa installed. SCIM on plain Node http, the management API.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createScimSso, memoryStore, ScimSsoConfigError, type ScimSsoCore, type SessionUser } from 'scim-sso';

const sso: ScimSsoCore = createScimSso({ store: memoryStore() });
const { token } = await sso.createScimConnection({ customerId: 'acme' });
const server = createServer((req, res) => {
  void sso.handleScimRequest(req, res).then((served) => {
    if (!served) res.writeHead(404).end('not scim');
  });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const users = await fetch(`${origin}/scim/v2/Users`, { headers: { authorization: `Bearer ${token}` } });
const other = await fetch(`${origin}/elsewhere`);
server.close();
if (users.status !== 200 || other.status !== 404) throw new Error(`core: SCIM ${users.status}, other ${other.status}`);

// Production without an explicit store is refused.
process.env.NODE_ENV = 'production';
try {
  createScimSso();
  throw new Error('core: no store in production was accepted');
} catch (error) {
  if (!(error instanceof ScimSsoConfigError)) throw error;
}
// Internals are not reachable from outside the package.
const internal = await import('scim-sso/dist/internal.js' as string).then(
  () => 'importable',
  (error: { code?: string }) => error.code,
);
if (internal !== 'ERR_PACKAGE_PATH_NOT_EXPORTED') throw new Error(`core: internal module ${internal}`);
const user: SessionUser = { customerId: 'acme', connectionId: null, scimUserId: null };
console.log(`core ok (${user.customerId})`);
