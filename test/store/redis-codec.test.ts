/** parseRawRow: a stored row read as bytes (a page's HMGET) splits into what parseResource makes of it. */
import { describe, expect, it } from 'vitest';
import { parseRawRow, parseResource } from '../../src/store/redis-codec.js';

/** `<v>:<len id>:<len x>:<id><x><json>`, lengths in bytes, as the scripts pack it (packRes). */
const pack = (version: number, id: string, x: string, json: string) =>
  Buffer.from(`${version}:${Buffer.byteLength(id)}:${Buffer.byteLength(x)}:${id}${x}${json}`);

describe('parseRawRow', () => {
  const json = '{"userName":"zoë \\"q\\" \u2028@example.com","id":"ü-1","meta":{"resourceType":"User"}}';
  const x = '\u0001userName\u0001zoë@example.com\u0001externalId\u0001é';

  it.each([
    ['a user in no group', 'User', 7, 'ü-1', []],
    ['a user in two groups', 'User', 123456789012, 'id:with:colons', ['g1', 'Group "One"', 'g/2 é', '']],
    ['a group with its member count', 'Group', 1, 'g1', ['42']],
    ['a group with no count', 'Group', 2, 'g2', []],
  ] as const)('splits %s as parseResource does', (_name, kind, version, id, aux) => {
    const raw = parseRawRow(
      kind,
      pack(version, id, x, json),
      aux.map((a) => Buffer.from(a)),
    );
    expect(raw).toEqual(parseResource(kind, [id, json, String(version), [...aux]]));
  });

  it('answers null for a row that is gone', () => {
    expect(parseRawRow('User', null, [])).toBeNull();
  });

  it('refuses a row whose header is not three numbers', () => {
    expect(() => parseRawRow('User', Buffer.from('1:2'), [])).toThrow(/layout/);
    expect(() => parseRawRow('User', Buffer.from('1:x:0:ab{}'), [])).toThrow(/layout/);
  });
});
