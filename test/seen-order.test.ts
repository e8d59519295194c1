import { describe, expect, it } from 'vitest';
import { byUtf8, bySeenDescending, seenScore } from '../src/seen-order.js';

describe('the SSO user order', () => {
  it('puts the most recently seen first, unreadable timestamps last, ties by subject as UTF-8 bytes', () => {
    expect(seenScore('2026-01-01T00:00:00.000Z')).toBe(-Date.parse('2026-01-01T00:00:00.000Z'));
    expect(seenScore('not a time')).toBe(0);
    const users = [
      { subject: 'b', lastSeenAt: '2026-01-01T00:00:00.000Z' },
      { subject: 'x', lastSeenAt: 'garbage' },
      { subject: '😀', lastSeenAt: '2026-01-02T00:00:00.000Z' },
      { subject: '～', lastSeenAt: '2026-01-02T00:00:00.000Z' },
      { subject: 'a', lastSeenAt: '2026-01-01T00:00:00.000Z' },
    ];
    expect(users.sort(bySeenDescending).map((u) => u.subject)).toEqual(['～', '😀', 'a', 'b', 'x']);
    for (const [a, b] of [
      ['a', 'b'],
      ['a', 'ab'],
      ['\uffff', '😀'],
      ['é', 'z\u0000'],
    ]) {
      expect(Math.sign(byUtf8(a!, b!))).toBe(Math.sign(Buffer.compare(Buffer.from(a!), Buffer.from(b!))));
      expect(Math.sign(byUtf8(b!, a!))).toBe(-Math.sign(byUtf8(a!, b!)));
    }
  });
});
