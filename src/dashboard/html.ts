/**
 * HTML building for the dashboard: a tagged template that escapes every interpolated value unless it is
 * already `SafeHtml` (built by this template or by `raw`). Nothing reaches a page unescaped by accident.
 */
import { showTextDirectionControls } from '../text-direction.js';
import { urlSegment } from '../url-segment.js';

export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

/**
 * Escapes text for element content and quoted attribute values; text-direction controls are shown as
 * `[U+202E]` (src/text-direction.ts).
 */
function escapeHtml(value: string): string {
  return showTextDirectionControls(value.replace(/[&<>"'`]/g, (c) => ENTITIES[c]!));
}

/** Marks trusted markup (constants of this module's callers only, never data). */
export const raw = (markup: string): SafeHtml => new SafeHtml(markup);

type Part = SafeHtml | string | number | boolean | null | undefined | readonly Part[];

function render(part: Part): string {
  if (part === null || part === undefined || part === false) return '';
  if (part instanceof SafeHtml) return part.value;
  if (Array.isArray(part)) return part.map(render).join('');
  return escapeHtml(String(part));
}

/** `html\`<p>${value}</p>\``: values are escaped, SafeHtml and arrays of it are inserted as is. */
export function html(strings: TemplateStringsArray, ...values: Part[]): SafeHtml {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? '');
  return new SafeHtml(out);
}

/**
 * JSON for a `<script type="application/json">` block: `<`, `>`, `&` and the JavaScript line separators
 * become \u escapes, so no value can close the script element or open a comment.
 */
export function jsonForScript(value: unknown): SafeHtml {
  return new SafeHtml(JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

/** A path segment or query value, percent-encoded (then escaped where it lands in an attribute). */
export const enc = urlSegment;
