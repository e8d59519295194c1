import { describe, expect, it } from 'vitest';
import { groupSpec } from '../../src/scim/groups.js';
import { memberViews, renderResource, renderResourceJson } from '../../src/scim/render.js';
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
    ['a user whose id needs encoding', { ...stored(userSpec, { userName: 'e@example.com' }), id: 'a b/é"\\?#' }],
    ["a user whose id is plain but unusual (!~*'()._-)", { ...stored(userSpec, { userName: 'p@example.com' }), id: "A-z_0.9!~*'()" }],
    ['a user in a group whose id needs encoding', stored(userSpec, { userName: 'q@example.com' }, { groups: [{ value: 'g/1 é', display: 'Q "1"' }] })],
    ['a user with a large version', stored(userSpec, { userName: 'v@example.com' }, { version: 2 ** 52 + 1 })],
    ['a stored user with an empty meta', { id: 'm1', kind: 'User', version: 3, json: '{"userName":"m@example.com","id":"m1","meta":{}}' } as StoredResource],
  ])('splices %s to exactly the text of the parsed rendering', (_name, resource) => {
    const spec = resource.kind === 'User' ? userSpec : groupSpec;
    expect(renderResourceJson(spec, resource, BASE)).toBe(JSON.stringify(renderResource(spec, resource, BASE)));
  });

  it('renders for whichever base URL and endpoint it is given, in any order (the location prefix is reused only for the same)', () => {
    const user = stored(userSpec, { userName: 'b@example.com' });
    const group = stored(groupSpec, { displayName: 'B' });
    const bases = [BASE, 'https://other.example.com/a "quoted" ü/scim/v2', BASE, 'http://127.0.0.1:1/x\\y'];
    for (const base of bases) {
      for (const [spec, resource] of [
        [userSpec, user],
        [groupSpec, group],
        [userSpec, user],
      ] as const) {
        expect(renderResourceJson(spec, resource, base)).toBe(JSON.stringify(renderResource(spec, resource, base)));
      }
    }
  });
});

describe('URLs of stored values no longer accepted', () => {
  it('writes a lone surrogate in a stored member value or id as U+FFFD in its $ref instead of failing the read', () => {
    // SCIM writes refuse lone surrogates (bodies and filters); data stored before that rule must stay readable.
    expect(memberViews([{ value: 'm\ud800' }], 'https://app.test/scim/v2')).toEqual([{ value: 'm\ud800', $ref: 'https://app.test/scim/v2/Users/m%EF%BF%BD' }]);
  });
});
