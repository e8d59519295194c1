/**
 * A string as one URL path segment or query value: `encodeURIComponent`, which throws a URIError on a lone
 * UTF-16 surrogate. SCIM bodies and filters refuse those, but a value stored before that rule, or an
 * IdP's claim, must not make a page or a resource unreadable: a lone surrogate is written as U+FFFD.
 */
export const urlSegment = (value: string): string => encodeURIComponent(value.toWellFormed());
