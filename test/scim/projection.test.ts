/**
 * `attributes` and `excludedAttributes` (src/scim/projection.ts): paths are grouped per attribute, so each
 * selected value is visited once whatever the number of paths, and several sub-attributes of one
 * multi-valued attribute are all kept (or all dropped) together.
 */
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../src/scim/normalize.js';
import { applyProjection, parseProjection, type Projection } from '../../src/scim/projection.js';
import { ENTERPRISE_USER_SCHEMA_ID as ENT, RESOURCE_TYPES, USER_SCHEMA_ID } from '../../src/scim/schemas.js';

const CUSTOM = 'urn:example:ext:1.0:User';

const user = (): JsonObject => ({
  schemas: [USER_SCHEMA_ID, ENT, CUSTOM],
  id: 'u1',
  userName: 'ada',
  emails: [
    { value: 'a@x', type: 'work', primary: true },
    { value: 'b@x', type: 'home' },
  ],
  roles: Array.from({ length: 1000 }, (_, i) => ({ value: `r${i}`, display: `Role ${i}`, type: 't' })),
  [ENT]: { department: 'R&D', costCenter: '7' },
  [CUSTOM]: { tier: 'gold' },
  meta: { resourceType: 'User' },
});

function projection(attributes: string | null, excluded: string | null): Projection {
  const parsed = parseProjection(RESOURCE_TYPES.User, attributes, excluded);
  if (!parsed.ok) throw parsed.error;
  return parsed.value;
}

describe('applyProjection', () => {
  it('keeps every sub-attribute named of a multi-valued attribute, with id and schemas', () => {
    const out = applyProjection(user(), projection('emails.value,EMAILS.type', null));
    expect(out).toEqual({
      schemas: [USER_SCHEMA_ID, ENT, CUSTOM],
      id: 'u1',
      emails: [
        { value: 'a@x', type: 'work' },
        { value: 'b@x', type: 'home' },
      ],
    });
  });

  it('drops every sub-attribute named, over all values, whatever the number of paths', () => {
    const paths = ['roles.display', ...Array.from({ length: 99 }, (_, i) => `roles.x${i}`)].join(',');
    const out = applyProjection(user(), projection(null, paths));
    expect((out.roles as JsonObject[]).every((role) => Object.keys(role).join() === 'value,type')).toBe(true);
    expect((out.roles as JsonObject[]).length).toBe(1000);
  });

  it('prefers a whole attribute to its sub-attributes, in either order', () => {
    for (const list of ['emails.value,emails', 'emails,emails.value']) {
      expect(applyProjection(user(), projection(list, null)).emails).toEqual(user().emails);
    }
  });

  it('prefers a whole extension to its attributes, in either order (the list asks for the union)', () => {
    // Before: the extension named after its attribute was cut down to that attribute.
    for (const list of [`${ENT},${ENT}:department`, `${ENT}:department,${ENT}`, `${ENT},department`, `${CUSTOM},${CUSTOM}:tier`, `${CUSTOM}:tier,${CUSTOM}`]) {
      const kept = applyProjection(user(), projection(list, null));
      expect([kept[ENT] ?? null, kept[CUSTOM] ?? null], list).toEqual(list.includes(CUSTOM) ? [null, user()[CUSTOM]] : [user()[ENT], null]);
    }
  });

  it('reaches extension and custom extension attributes, and leaves out an extension emptied', () => {
    const kept = applyProjection(user(), projection(`${ENT}:department,${CUSTOM}:tier,userName`, null));
    expect(kept).toMatchObject({ userName: 'ada', [ENT]: { department: 'R&D' }, [CUSTOM]: { tier: 'gold' } });
    expect((kept[ENT] as JsonObject).costCenter).toBeUndefined();
    const dropped = applyProjection(user(), projection(null, `${CUSTOM}:tier,${ENT.toLowerCase()}:department`));
    expect(dropped[CUSTOM]).toBeUndefined();
    expect(dropped[ENT]).toEqual({ costCenter: '7' });
    expect(applyProjection(user(), projection(null, CUSTOM))[CUSTOM]).toBeUndefined();
  });

  it("reads the core schema's URN as every core attribute, as an extension's URN names the whole extension", () => {
    const core = applyProjection(user(), projection(USER_SCHEMA_ID, null));
    expect(core).toMatchObject({ id: 'u1', userName: 'ada', emails: user().emails, meta: { resourceType: 'User' } });
    expect(core[ENT]).toBeUndefined();
    expect(core[CUSTOM]).toBeUndefined();
    const both = applyProjection(user(), projection(`${USER_SCHEMA_ID.toUpperCase()},${ENT}`, null));
    expect(both).toMatchObject({ userName: 'ada', [ENT]: { department: 'R&D', costCenter: '7' } });
    const withoutCore = applyProjection(user(), projection(null, USER_SCHEMA_ID));
    expect(Object.keys(withoutCore).sort()).toEqual(['id', 'schemas', CUSTOM, ENT].sort());
  });

  it('leaves out a complex attribute none of whose named sub-attributes is set (RFC 7643 §2.5), not {}', () => {
    const withName = { ...user(), name: { givenName: 'Ada', familyName: 'Lovelace' } };
    expect(applyProjection(withName, projection('name.nickName,userName', null))).toEqual({ schemas: user().schemas, id: 'u1', userName: 'ada' });
    expect(applyProjection(withName, projection('name.nickName,name.givenName', null)).name).toEqual({ givenName: 'Ada' });
    // Values of a multi-valued attribute likewise; an empty list stays as it is.
    expect(applyProjection(user(), projection('emails.display,userName', null)).emails).toBeUndefined();
    expect(applyProjection({ ...user(), emails: [] }, projection('emails.value', null)).emails).toEqual([]);
    // What excludedAttributes empties is left out too.
    const onlyGiven = { ...user(), name: { givenName: 'Ada' } };
    expect(applyProjection(onlyGiven, projection(null, 'name.givenName')).name).toBeUndefined();
    expect(applyProjection(user(), projection(null, 'emails.value,emails.type,emails.primary')).emails).toBeUndefined();
    expect(applyProjection(user(), projection(null, 'emails.type')).emails).toEqual([{ value: 'a@x', primary: true }, { value: 'b@x' }]);
  });

  it('never drops id or schemas, and never changes the resource it shapes', () => {
    const resource = user();
    const before = structuredClone(resource);
    const out = applyProjection(resource, projection(null, `id,schemas,emails.type,${ENT}:department,roles.display`));
    expect(out.id).toBe('u1');
    expect(out.schemas).toEqual(before.schemas);
    expect(resource).toEqual(before);
  });
});
