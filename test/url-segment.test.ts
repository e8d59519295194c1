/** URL text helpers (src/url-segment.ts). */
import { describe, expect, it } from 'vitest';
import { targetPath, urlSegment, withoutTrailingSlashes } from '../src/url-segment.js';

describe('withoutTrailingSlashes', () => {
  it.each([
    ['/scim/v2/', '/scim/v2'],
    ['/scim/v2///', '/scim/v2'],
    ['/scim/v2', '/scim/v2'],
    ['/', ''],
    ['', ''],
    ['https://idp.test/a//b/', 'https://idp.test/a//b'],
  ])('%j → %j', (text, expected) => {
    expect(withoutTrailingSlashes(text)).toBe(expected);
  });

  it('leaves a long run of slashes that something else ends as it is', () => {
    const text = `https://idp.test/${'/'.repeat(100_000)}x`;
    expect(withoutTrailingSlashes(text)).toBe(text);
  });
});

describe('urlSegment and targetPath', () => {
  it('encodes a segment, a lone surrogate as U+FFFD', () => {
    expect(urlSegment('a b/c')).toBe('a%20b%2Fc');
    expect(urlSegment('x\uD800')).toBe('x%EF%BF%BD');
  });

  it('drops the scheme and host of an absolute-form target only', () => {
    expect(targetPath('http://evil.test/scim/v2/Users?x=1')).toBe('/scim/v2/Users?x=1');
    expect(targetPath('/scim/v2/Users')).toBe('/scim/v2/Users');
  });
});
