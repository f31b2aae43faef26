/*
 * JSON helpers of the protocol readers: parsing without throwing, a member of an unknown value,
 * and cheap look-ups in JSON text that avoid parsing a whole (large) response: a string member and
 * an object member by key. A key can only match as a key: inside a JSON string its quotes are
 * escaped (`\"usage\"`), so generated text cannot fake it.
 */

const MAX_STRING = 200;

/** The first `"key": "…"` string value in `text` (at most 200 characters), or undefined. */
export function findString(text: string, key: string): string | undefined {
  const at = text.indexOf(`"${key}"`);
  if (at === -1) return undefined;
  let i = skipSpace(text, at + key.length + 2);
  if (text.charCodeAt(i) !== 58 /* : */) return undefined;
  i = skipSpace(text, i + 1);
  if (text.charCodeAt(i) !== 34 /* " */) return undefined;
  for (let j = i + 1; j < text.length && j <= i + 1 + MAX_STRING; j++) {
    const c = text.charCodeAt(j);
    if (c === 92 /* \ */) j++;
    else if (c === 34) {
      try {
        return JSON.parse(text.slice(i, j + 1)) as string;
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** The last `"key": {…}` object in `text`, parsed; undefined if absent, null or malformed. */
export function findObject(text: string, key: string): unknown {
  const at = text.lastIndexOf(`"${key}"`);
  if (at === -1) return undefined;
  let i = skipSpace(text, at + key.length + 2);
  if (text.charCodeAt(i) !== 58 /* : */) return undefined;
  i = skipSpace(text, i + 1);
  if (text.charCodeAt(i) !== 123 /* { */) return undefined;
  let depth = 0;
  let inString = false;
  for (let j = i; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (inString) {
      if (c === 92) j++;
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123) depth++;
    else if (c === 125 /* } */ && --depth === 0) {
      try {
        return JSON.parse(text.slice(i, j + 1));
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

function skipSpace(text: string, i: number): number {
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13) break;
    i++;
  }
  return i;
}

/** Parses JSON text, or returns undefined. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A JSON object's member, if `value` is an object. */
export function member(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}
