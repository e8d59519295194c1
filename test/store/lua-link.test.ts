/** src/store/lua-link.ts: a script keeps exactly the prelude definitions it uses, in order. */
import { describe, expect, it } from 'vitest';
import { linkLua, preludeDefinitions, withoutComments } from '../../src/store/lua-link.js';
import * as scripts from '../../src/store/redis-scripts.js';

const PRELUDE = `
local base = KEYS[1]
local A, B = base .. 'a', base .. 'b'
-- about f
local function f(x) return A .. x end
local function g(x)
  return f(x) .. 'g'
end
local function unused() return B end
`;

describe('linkLua', () => {
  it('keeps what the body uses, directly or through other definitions, in prelude order, comments included', () => {
    const linked = linkLua(PRELUDE, 'return g(ARGV[1])');
    expect(linked).toBe(
      [
        'local base = KEYS[1]',
        "local A, B = base .. 'a', base .. 'b'",
        '-- about f',
        'local function f(x) return A .. x end',
        'local function g(x)',
        "  return f(x) .. 'g'",
        'end',
        'return g(ARGV[1])',
      ].join('\n'),
    );
    expect(linked).not.toContain('unused');
  });

  it('keeps nothing for a body that uses no definition', () => {
    expect(linkLua(PRELUDE, "return redis.call('PING')")).toBe("\nreturn redis.call('PING')");
  });

  it('refuses a prelude with a top-level statement that defines nothing (it would be dropped silently)', () => {
    expect(() => preludeDefinitions(`local base = KEYS[1]\nredis.call('DEL', base)\n`)).toThrow(/top-level statement/);
  });

  it('keeps a definition named only in a rarely taken branch or a nested function', () => {
    const linked = linkLua(PRELUDE, "if ARGV[1] == 'x' then\n  local h = function() return unused() end\n  return h()\nend\nreturn 0");
    expect(linked).toContain('local function unused() return B end');
    expect(linked).toContain("local A, B = base .. 'a', base .. 'b'");
    expect(linked).not.toContain('local function g(');
  });

  it('does not link a definition that another one only names in a comment, nor one named in a body comment', () => {
    const prelude = `${PRELUDE}-- h is not unused()'s caller
local function h(x) return g(x) end -- see unused
`;
    const linked = linkLua(prelude, 'return h(1) -- unlike unused()');
    expect(linked).toContain('local function h(x)');
    expect(linked).toContain('local function g(x)');
    expect(linked).not.toContain('local function unused()');
    // A quoted "--" is not a comment: what follows it on the line still counts.
    expect(linkLua(PRELUDE, "return '--' .. unused()")).toContain('local function unused()');
  });

  it('reads Lua comments as comments, and quoted text as code', () => {
    expect(withoutComments('local a = 1 -- f()\nlocal b = \'--\' .. g() -- h\nreturn "x\\"--" .. k')).toBe(
      'local a = 1 \nlocal b = \'--\' .. g() \nreturn "x\\"--" .. k',
    );
  });

  it("gives the store's read scripts none of the write helpers", () => {
    for (const script of [scripts.GET_RESOURCE, scripts.FIND_BY_INDEX, scripts.LIST_PAGE]) {
      expect(script).toContain('local function auxOf(');
      expect(script).not.toContain('local function parseWrite(');
      expect(script).not.toContain('local function appendEvents(');
      // Nor the event log's or a cascade's, which comments in the prelude name.
      expect(script).not.toContain('local function keepShared(');
      expect(script).not.toContain('local function trimEvents(');
      expect(script).not.toContain('local function touchAt(');
    }
    expect(scripts.CREATE_RESOURCE).toContain('local function parseWrite(');
  });
});
