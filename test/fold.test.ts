/**
 * The one folding rule (src/fold.ts): ASCII-safe. Case folds; look-alikes never collide with the ASCII
 * value they imitate; canonically equal spellings (NFC) collide, as they are the same text.
 */
import { describe, expect, it } from 'vitest';
import { fold, foldCase, foldsEmpty, localPart } from '../src/fold.js';

describe('fold', () => {
  it('lower-cases plain ASCII and trims ASCII whitespace at both ends only', () => {
    expect(fold('Alice@Example.COM')).toBe('alice@example.com');
    expect(fold(' \t alice@example.com \r\n')).toBe('alice@example.com');
    expect(fold('a b')).toBe('a b');
    expect(fold('')).toBe('');
  });

  it('keeps the Kelvin sign (U+212A): it never folds to the ASCII k', () => {
    expect(fold('\u212Aate@corp.test')).not.toBe(fold('kate@corp.test'));
    expect(fold('\u212Aate@corp.test')).toBe('\u212Aate@corp.test');
  });

  it('keeps a BOM (U+FEFF), a no-break space (U+00A0) and a zero-width joiner (U+200D), at the ends or inside', () => {
    for (const odd of ['\uFEFF', '\u00A0', '\u200D']) {
      expect(fold(`${odd}alice@corp.test`)).not.toBe(fold('alice@corp.test'));
      expect(fold(`alice@corp.test${odd}`)).not.toBe(fold('alice@corp.test'));
      expect(fold(`al${odd}ice@corp.test`)).not.toBe(fold('alice@corp.test'));
      expect(fold(`${odd}Alice`)).toBe(`${odd}alice`); // the rest still folds
    }
  });

  it('keeps İ (U+0130): its lower case would be ASCII i plus a combining dot', () => {
    expect(fold('\u0130van@corp.test')).not.toBe(fold('ivan@corp.test'));
    expect(fold('\u0130van@corp.test').startsWith('i')).toBe(false);
  });

  it('keeps the Greek question mark (U+037E), a canonical singleton of the ASCII semicolon', () => {
    expect(fold('a\u037Eb')).not.toBe(fold('a;b'));
    expect(fold('a\u037Eb')).toBe('a\u037Eb');
  });

  it('folds NFC-equivalent spellings together: é precomposed and e + combining acute are the same text', () => {
    expect(fold('Ren\u00E9@corp.test')).toBe(fold('rene\u0301@corp.test'));
    expect(fold('REN\u00C9')).toBe('ren\u00E9');
    // but never to plain ASCII e
    expect(fold('ren\u00E9')).not.toBe(fold('rene'));
  });

  it('folds a capital with no precomposed form and its lower-case letter alike (J + caron, ǰ), and is idempotent', () => {
    expect(fold('J\u030Cohn@corp.test')).toBe(fold('\u01F0ohn@corp.test'));
    expect(fold('J\u030Cohn@corp.test')).toBe('\u01F0ohn@corp.test');
    // Every letter of the Basic Multilingual Plane, alone and before a combining mark: folding twice changes nothing.
    const marks = ['', '\u0301', '\u0308', '\u030C', '\u0331', '\u0342', '\u0345'];
    const unstable: string[] = [];
    for (let code = 0x41; code < 0x10000; code++) {
      if (code >= 0xd800 && code <= 0xdfff) continue;
      const ch = String.fromCharCode(code);
      if (!/\p{L}/u.test(ch)) continue;
      for (const mark of marks) {
        const once = fold(ch + mark);
        if (fold(once) !== once) unstable.push((ch + mark).normalize('NFD'));
      }
    }
    expect(unstable).toEqual([]);
  });

  it('lower-cases non-ASCII letters that stay non-ASCII (Greek, Cyrillic)', () => {
    expect(fold('ΣΟΦΙΑ')).toBe('σοφια');
    expect(fold('Иван')).toBe('иван');
  });

  it('foldCase folds without trimming (substring filters); localPart takes what precedes the last @', () => {
    expect(foldCase(' Alice ')).toBe(' alice ');
    expect(localPart('a@b@corp.test')).toBe('a@b');
    expect(localPart('no-domain')).toBe('no-domain');
  });

  it('foldsEmpty says whether a value folds to nothing, exactly as fold does', () => {
    for (const value of ['', ' ', '\t\r\n\v\f ', 'a', ' a ', '\u00a0', '\ufeff', '\u200d', ' \u2000 ', 'İ', '\u0301']) {
      expect({ value, empty: foldsEmpty(value) }).toEqual({ value, empty: fold(value) === '' });
    }
  });
});
