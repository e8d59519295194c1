/**
 * A string as one URL path segment or query value: `encodeURIComponent`, which throws a URIError on a lone
 * UTF-16 surrogate. SCIM bodies and filters refuse those, but a value stored before that rule, or an
 * IdP's claim, must not make a page or a resource unreadable: a lone surrogate is written as U+FFFD.
 */
export const urlSegment = (value: string): string => encodeURIComponent(value.toWellFormed());

/** The scheme and host of an absolute-form request target (`GET http://host/path HTTP/1.1`, RFC 9112 §3.2.2). */
const ABSOLUTE_FORM = /^[a-z][a-z0-9+.-]*:\/\/[^/]*/i;

/**
 * The path (and query) of a request target: an absolute-form target loses its scheme and host, which are the
 * client's to choose and would otherwise lead links, cookie paths or a URL built by prefixing the origin.
 */
export const targetPath = (target: string): string => target.replace(ABSOLUTE_FORM, '');

/**
 * `text` without the slashes it ends with. A loop, not `replace(/\/+$/, '')`: that pattern, tried at every
 * slash of a long run that something else ends, costs the square of the run's length.
 */
export function withoutTrailingSlashes(text: string): string {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 0x2f) end--;
  return end === text.length ? text : text.slice(0, end);
}
