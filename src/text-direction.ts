/**
 * Text-direction controls (Arabic letter mark, LRM/RLM, embeddings, overrides, isolates). A value an IdP or a
 * customer's admin typed could use them to show an admin other text than it holds (`acme-app\u202E…` read
 * backwards), so admin pages show them as their code point and the SSO form refuses them in a client ID.
 */
const TEXT_DIRECTION_CONTROL = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
const EACH_TEXT_DIRECTION_CONTROL = new RegExp(TEXT_DIRECTION_CONTROL.source, 'g');

/** Whether the text holds a text-direction control. */
export const hasTextDirectionControl = (text: string): boolean => TEXT_DIRECTION_CONTROL.test(text);

/** The text with each text-direction control written as its code point, `[U+202E]`. */
export const showTextDirectionControls = (text: string): string =>
  text.replace(EACH_TEXT_DIRECTION_CONTROL, (c) => `[U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}]`);
