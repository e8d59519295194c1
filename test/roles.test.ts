/**
 * Roles from groups, without a login: the pure rule (src/roles/role-mapping.ts) and the management API
 * (src/roles/roles-api.ts) on a memory store, including what it refuses.
 */
import { describe, expect, it } from 'vitest';
import { ScimSsoConfigError, rolesFor, type AuditEvent, type RoleMapping } from '../src/index.js';
import { checkRole, roleMappingOf } from '../src/roles/role-mapping.js';
import { scimSso } from './support/sso.js';

const admins = { id: 'g-admins', displayName: 'App-Admins' };
const staff = { id: 'g-staff', displayName: 'Staff' };

const mapping: RoleMapping = {
  rules: [
    { groupDisplayName: 'APP-ADMINS', roles: ['admin', 'editor'] },
    { groupId: 'g-staff', roles: ['viewer', 'editor'] },
    { groupId: 'g-nobody', roles: ['ghost'] },
  ],
  defaultRoles: ['member', 'viewer'],
};

describe('rolesFor', () => {
  it('adds the roles of every rule naming one of the groups, in rule order, then the defaults, each role once', () => {
    expect(rolesFor(mapping, [staff, admins])).toEqual(['admin', 'editor', 'viewer', 'member']);
    expect(rolesFor(mapping, [staff])).toEqual(['viewer', 'editor', 'member']);
    expect(rolesFor(mapping, [])).toEqual(['member', 'viewer']);
  });

  it('matches displayNames case-insensitively and ids exactly', () => {
    expect(rolesFor(mapping, [{ id: 'x', displayName: 'app-admins' }])).toContain('admin');
    expect(rolesFor(mapping, [{ id: 'G-STAFF', displayName: 'Other' }])).toEqual(['member', 'viewer']);
    // A group whose displayName is another rule's id gives nothing: ids and names are different keys.
    expect(rolesFor(mapping, [{ id: 'y', displayName: 'g-staff' }])).toEqual(['member', 'viewer']);
  });

  it('gives no roles without a mapping', () => {
    expect(rolesFor(null, [admins, staff])).toEqual([]);
  });

  it('reads a stored mapping back, and treats one that does not validate as none (no roles, never a crash)', () => {
    expect(roleMappingOf({ json: JSON.stringify(mapping) })).toEqual(mapping);
    expect(roleMappingOf({ json: '{"rules":[{"groupId":"g","roles":[]}]}' })).toBeNull();
    expect(roleMappingOf({ json: 'not json' })).toBeNull();
    expect(roleMappingOf({ json: '{"rules":[],"__proto__":{"x":1}}' })).toBeNull();
    expect(roleMappingOf(null)).toBeNull();
  });

  it('checkRole refuses what is not a role name', () => {
    expect(checkRole('admin')).toBe('admin');
    for (const bad of ['', ' admin', 'admin ', 'x'.repeat(101), 'ro\nle', 'read,write', 7, null]) expect(() => checkRole(bad)).toThrow(ScimSsoConfigError);
  });
});

describe('role mapping management', () => {
  async function setUp() {
    const events: AuditEvent[] = [];
    const sso = scimSso({ onEvent: (event) => void events.push(event) });
    return { sso, events };
  }

  it('sets, fetches and deletes a mapping, each change an audit event', async () => {
    const { sso, events } = await setUp();
    expect(await sso.fetchRoleMapping('acme')).toBeNull();
    const set = await sso.setRoleMapping('acme', { rules: [{ groupId: 'g1', roles: ['admin'] }] });
    expect(set).toEqual({ customerId: 'acme', rules: [{ groupId: 'g1', roles: ['admin'] }], defaultRoles: [], updatedAt: expect.any(String) });
    expect(await sso.fetchRoleMapping('acme')).toEqual(set);
    expect(await sso.fetchRoleMapping('other')).toBeNull();
    expect(await sso.deleteRoleMapping('acme')).toBe(true);
    expect(await sso.deleteRoleMapping('acme')).toBe(false);
    expect(await sso.fetchRoleMapping('acme')).toBeNull();
    expect(events.map((e) => [e.type, e.customerId, e.actor])).toEqual([
      ['role_mapping.updated', 'acme', 'admin'],
      ['role_mapping.deleted', 'acme', 'admin'],
    ]);
  });

  it.each([
    ['an unknown field', { rules: [], extra: 1 }],
    ['a rule naming both an id and a name', { rules: [{ groupId: 'g', groupDisplayName: 'G', roles: ['a'] }] }],
    ['a rule with no roles', { rules: [{ groupId: 'g', roles: [] }] }],
    ['a role with a newline', { rules: [{ groupId: 'g', roles: ['a\nb'] }] }],
    ['a role with a comma (the Roles page would split it)', { rules: [{ groupId: 'g', roles: ['read,write'] }] }],
    ['a default role with a comma', { rules: [], defaultRoles: ['a,b'] }],
    ['too many rules', { rules: Array.from({ length: 201 }, (_, i) => ({ groupId: `g${i}`, roles: ['a'] })) }],
    ['too many roles in a rule', { rules: [{ groupId: 'g', roles: Array.from({ length: 21 }, (_, i) => `r${i}`) }] }],
    ['an over-long group name', { rules: [{ groupDisplayName: 'x'.repeat(257), roles: ['a'] }] }],
    ['a prototype key', JSON.parse('{"rules":[],"__proto__":{"polluted":true}}')],
    ['not an object', 'admin'],
  ])('refuses %s with invalid_argument and keeps the mapping it had', async (_label, input) => {
    const { sso } = await setUp();
    const kept = await sso.setRoleMapping('acme', { rules: [{ groupId: 'g', roles: ['admin'] }] });
    await expect(sso.setRoleMapping('acme', input as never)).rejects.toMatchObject({ code: 'invalid_argument' });
    expect(await sso.fetchRoleMapping('acme')).toEqual(kept);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses a bad customer id', async () => {
    const { sso } = await setUp();
    await expect(sso.setRoleMapping('bad id', { rules: [] })).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(sso.fetchRoleMapping('{x}')).rejects.toMatchObject({ code: 'invalid_argument' });
    // Path segments browsers drop: such a customer's pages and links could not be reached.
    for (const dots of ['.', '..']) {
      await expect(sso.createScimConnection({ customerId: dots })).rejects.toMatchObject({ code: 'invalid_argument' });
      await expect(sso.fetchRoleMapping(dots)).rejects.toMatchObject({ code: 'invalid_argument' });
    }
    await expect(sso.createScimConnection({ customerId: '...' })).resolves.toMatchObject({ customerId: '...' });
    // Length is counted as the stores count it (UTF-16 units): 150 emoji are 300 units, 100 are 200.
    await expect(sso.createScimConnection({ customerId: '😀'.repeat(150) })).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(sso.createScimConnection({ customerId: '😀'.repeat(100) })).resolves.toMatchObject({ customerId: '😀'.repeat(100) });
  });
});
