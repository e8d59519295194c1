/**
 * The dashboard's and the portal's HTML template (src/dashboard/html.ts): every value escaped, and
 * text-direction controls shown as their code point, so that no value shows an admin other text than it holds.
 */
import { describe, expect, it } from 'vitest';
import { html, raw } from '../../src/dashboard/html.js';

describe('html template', () => {
  it('escapes markup in values, in content and attributes alike', () => {
    const value = `"><img src=x onerror=alert(1)>'\``;
    expect(html`<td title="${value}">${value}</td>`.value).toBe(
      '<td title="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&#39;&#96;">&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&#39;&#96;</td>',
    );
    expect(html`<p>${raw('<b>kept</b>')}</p>`.value).toBe('<p><b>kept</b></p>');
  });

  it('shows text-direction controls as their code point instead of letting them reorder the text', () => {
    const rendered = html`<td>${'acme-app\u202e\u2066 (verified by Acme security) \u2069'}</td>`.value;
    expect(rendered).toBe('<td>acme-app[U+202E][U+2066] (verified by Acme security) [U+2069]</td>');
    expect(rendered).not.toMatch(/[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/);
    // Letters of right-to-left scripts are text, not controls: they stay as they are.
    expect(html`${'שלום'}`.value).toBe('שלום');
  });
});
