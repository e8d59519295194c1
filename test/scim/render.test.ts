import { describe, expect, it } from 'vitest';
import { groupSpec } from '../../src/scim/groups.js';
import { renderResource, renderResourceJson } from '../../src/scim/render.js';
import { buildResource } from '../../src/scim/resource-spec.js';
import { userSpec } from '../../src/scim/users.js';
import type { StoredResource } from '../../src/store/store.js';

const owned = { id: 'id-1', created: '2026-11-30T00:00:00.000Z', lastModified: '2026-11-30T01:00:00.000Z' };
const BASE = 'https://app.example.com/scim/v2';

function stored(spec: typeof userSpec, body: unknown, extra: Partial<StoredResource> = {}): StoredResource {
  const built = buildResource(spec, body, owned);
  if (!built.ok) throw built.error;
  const write = spec.toWrite(built.value);
  return { id: write.id, kind: write.kind, json: write.json, version: 7, ...(write.members ? { members: write.members } : {}), ...extra };
}

describe('rendering a stored resource as text', () => {
  it.each([
    ['a plain user', stored(userSpec, { userName: 'a@example.com' })],
    [
      'a user with unicode, quotes and an extension',
      stored(userSpec, {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'],
        userName: 'zoë "quoted" \u2028@example.com',
        name: { givenName: 'Zoë' },
        meta: { created: 'ignored' },
        'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: '},"meta":{"x":1}}' },
      }),
    ],
    [
      'a user in two groups',
      stored(
        userSpec,
        { userName: 'g@example.com' },
        {
          groups: [
            { value: 'g1', display: 'One' },
            { value: 'g 2', display: 'Two' },
          ],
        },
      ),
    ],
    [
      'a group with members',
      stored(groupSpec, {
        displayName: 'Team',
        members: [
          { value: 'u1', display: 'U' },
          { value: 'u2', type: 'User' },
        ],
      }),
    ],
    ['an empty group', stored(groupSpec, { displayName: 'Empty' })],
  ])('splices %s to exactly the text of the parsed rendering', (_name, resource) => {
    const spec = resource.kind === 'User' ? userSpec : groupSpec;
    expect(renderResourceJson(spec, resource, BASE)).toBe(JSON.stringify(renderResource(spec, resource, BASE)));
  });
});
