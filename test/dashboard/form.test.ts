/**
 * The dashboard's and the setup portal's form reader (src/dashboard/form.ts), on real Node streams: fields
 * read in one pass, a repeated field as an array, a field named `__proto__` as a plain field, and a form of
 * more than FORM_MAX_FIELDS fields refused with a 400 before anything else looks at it (16 KB holds
 * thousands of empty fields, and the form is read before the CSRF check).
 */
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { FORM_LIMIT_BYTES, FORM_MAX_FIELDS, readForm } from '../../src/dashboard/form.js';

/** A request stream carrying `body` as an urlencoded form. */
function formRequest(body: string): IncomingMessage {
  const stream = Readable.from([Buffer.from(body)]) as unknown as IncomingMessage;
  stream.headers = { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(body)) };
  return stream;
}

/** The request once a body parser has read it (as express.urlencoded or koa-bodyparser do when they parse). */
async function readByParser(body = 'a=1&b=2&b=3'): Promise<IncomingMessage> {
  const stream = formRequest(body);
  for await (const chunk of stream as AsyncIterable<Buffer>) void chunk;
  return stream;
}

/** The status a rejected read carries, or 'read' when the form was read. */
async function outcome(body: string): Promise<number | 'read'> {
  try {
    await readForm(formRequest(body), undefined);
    return 'read';
  } catch (error) {
    return (error as { status: number }).status;
  }
}

describe('readForm', () => {
  it('reads fields, a repeated field as an array in order, and __proto__ as a plain field', async () => {
    const form = await readForm(formRequest('a=1&b=2&a=3&__proto__=x&a=4&c='), undefined);
    expect(Object.getPrototypeOf(form)).toBe(null);
    expect(Object.entries(form)).toEqual([
      ['a', ['1', '3', '4']],
      ['b', '2'],
      ['__proto__', 'x'],
      ['c', ''],
    ]);
    expect(Object.prototype).not.toHaveProperty('x');
  });

  it(`reads a form of ${FORM_MAX_FIELDS} fields, repeated ones included, and refuses one more with a 400`, async () => {
    const fields = (n: number) => Array.from({ length: n }, (_, i) => `f${i % 10}=${i}`).join('&');
    const read = await readForm(formRequest(fields(FORM_MAX_FIELDS)), undefined);
    expect((read['f0'] as string[]).length).toBe(Math.ceil(FORM_MAX_FIELDS / 10));
    expect(await outcome(fields(FORM_MAX_FIELDS + 1))).toBe(400);
  });

  it('reads a form as large as the Roles page with its most rules (3 fields per rule, 200 rules, 3 blank rows and a token)', async () => {
    const rows = Array.from({ length: 203 }, (_, i) => `group=g${i}&role=r${i}&claim=`).join('&');
    const form = await readForm(formRequest(`${rows}&_csrf=t`), undefined);
    expect((form['group'] as string[]).length).toBe(203);
    expect(form['_csrf']).toBe('t');
  });

  it('refuses thousands of distinct empty fields within the byte limit with a 400', async () => {
    let body = '';
    for (let i = 0; body.length + String(i).length + 1 <= FORM_LIMIT_BYTES; i++) body += `${i === 0 ? '' : '&'}${i}`;
    expect(body.split('&').length).toBeGreaterThan(3000);
    expect(await outcome(body)).toBe(400);
  });

  it('holds a form a parser mounted first produced to the same rules: own fields, no prototype, at most FORM_MAX_FIELDS', async () => {
    const parsed = Object.assign(Object.create({ inherited: 'x' }) as Record<string, unknown>, { a: '1', b: ['2', '3'] });
    const form = await readForm(await readByParser(), parsed);
    expect(Object.getPrototypeOf(form)).toBe(null);
    expect(Object.entries(form)).toEqual([
      ['a', '1'],
      ['b', ['2', '3']],
    ]);
    const wide = Object.fromEntries(Array.from({ length: FORM_MAX_FIELDS + 1 }, (_, i) => [`f${i}`, '']));
    await expect(readForm(await readByParser(), wide)).rejects.toMatchObject({ status: 400 });
  });

  it("reads the form itself when a parser left the stream unread (Koa's parsers set {} for a type they skip)", async () => {
    expect(Object.entries(await readForm(formRequest('a=1&_csrf=t'), {}))).toEqual([
      ['a', '1'],
      ['_csrf', 't'],
    ]);
  });

  it('refuses a body over the byte limit with a 413, declared or not', async () => {
    expect(await outcome(`a=${'x'.repeat(FORM_LIMIT_BYTES)}`)).toBe(413);
    const undeclared = formRequest(`a=${'x'.repeat(FORM_LIMIT_BYTES)}`);
    delete undeclared.headers['content-length'];
    await expect(readForm(undeclared, undefined)).rejects.toMatchObject({ status: 413 });
  });
});
