/**
 * Patterns of string schemas whose failure is worth words rather than the regular expression:
 * the error answer's message for a field failing one of them.
 */

/**
 * No control character: C0 (line feed, carriage return, tab, NUL, …), DEL, C1, and the
 * Unicode line and paragraph separators. For single-line values that end up in files a
 * line-based parser reads (the agent's configuration).
 */
export const NO_CONTROL_CHARACTERS = '^[^\\u0000-\\u001F\\u007F-\\u009F\\u2028\\u2029]*$';

export const PATTERN_MESSAGES: Readonly<Record<string, string>> = {
  [NO_CONTROL_CHARACTERS]: 'must not contain control characters (line breaks, tabs, …)',
};
