/**
 * Lists of names on the dashboard's pages (a SCIM user's groups, a group's members, a person's roles or
 * emails): each shows its first names as far as LIST_CHARS characters go, then how many more there are.
 * A customer's SCIM client decides how long these lists are: 50 users each in 1,000 groups of
 * 1,024-character names, within every SCIM limit, made the customer page 51.7 MB and held the event loop
 * 0.7-1.5 s while it was built; 100 such users sharing an externalId made the Compare page 102.7 MB and
 * 0.9-1.4 s (a hostile-tenant probe, 2026-12-07). The whole lists stay readable through SCIM and the
 * directory API. Every page that shows such a list goes through `firstNames`.
 */
import { html, type SafeHtml } from './html.js';

/**
 * Characters one list adds to a page, its names counted as the page holds them (escaped: `&quot;` is 6)
 * with 2 for each separator: about 60 names of 30 characters, or one of 1,024. A page of 100 users then holds
 * at most about 200,000 characters of group names, whatever the names are made of.
 */
export const LIST_CHARS = 2_000;

/** The part of a list a page shows. */
export interface NamesShown {
  /** The first names in order, as many as LIST_CHARS holds; at least one, cut (ending in "…") if it alone is longer. */
  names: string[];
  /** How many are left out. */
  more: number;
}

/** The characters html.ts escapes (`&amp;` … `&quot;`): each counted as 6. */
const ESCAPED = '&<>"\'`';
const charLength = (c: string): number => (ESCAPED.includes(c) ? 6 : 1);

/** The characters `text` takes in the page once escaped; past `stop`, any number above it. */
function pageLength(text: string, stop: number): number {
  if (text.length > stop) return text.length;
  let length = 0;
  for (let i = 0; i < text.length; i++) length += charLength(text.charAt(i));
  return length;
}

/** The start of `text` that takes at most `chars` characters in the page, then "…" (never splitting a surrogate pair). */
function cut(text: string, chars: number): string {
  let end = 0;
  for (let length = 0; end < text.length; end++) {
    length += charLength(text.charAt(end));
    if (length > chars) break;
  }
  if (end > 0 && /[\uD800-\uDBFF]/.test(text.charAt(end - 1))) end--;
  return `${text.slice(0, end)}…`;
}

/**
 * The first names of `items` within `chars` characters of the page, and how many of `total` are left out
 * (`total`: items.length unless a count read apart says more, such as a group's size beside its first
 * members). Looks only at the names it keeps and the one after, so it costs the same for 10 items as for 10,000.
 */
export function firstNames<T>(items: readonly T[], nameOf: (item: T) => string, options: { total?: number; chars?: number } = {}): NamesShown {
  const chars = options.chars ?? LIST_CHARS;
  const names: string[] = [];
  let used = 0;
  for (const item of items) {
    const name = nameOf(item);
    const length = pageLength(name, chars);
    used += length + 2;
    if (names.length > 0 && used > chars) break;
    names.push(length > chars ? cut(name, chars) : name);
    if (used >= chars) break;
  }
  return { names, more: Math.max(0, (options.total ?? items.length) - names.length) };
}

/** "… and 998 more groups" (`noun` singular; an "s" is added for more than one), or nothing. */
export function moreNote(more: number, noun: string): SafeHtml {
  return more > 0 ? html`<span class="muted">… and ${more} more ${more === 1 ? noun : `${noun}s`}</span>` : html``;
}

/** The names comma-separated, then the note of the rest; `empty` when the list is. */
export function inlineNames(shown: NamesShown, noun: string, empty = '—'): SafeHtml {
  if (shown.names.length === 0) return html`${empty}`;
  return html`${shown.names.join(', ')}${shown.more > 0 ? html` ${moreNote(shown.more, noun)}` : ''}`;
}
