/*
 * Searching bytes for ASCII text, for the readers' hot paths in bytes: a pattern of ASCII bytes
 * matches in UTF-8 exactly where its text matches in the decoded text (no byte of a multi-byte
 * sequence, valid or not, is below 0x80), so structure can be found without decoding.
 */

/**
 * ASCII text to search bytes for, and which of its bytes to look for first (`anchor`): the one
 * least frequent where it is searched, since each candidate costs a native `indexOf` call (a
 * search anchored on the `"` of a JSON key stops at every key and string: ten times as many).
 */
export interface BytePattern {
  readonly bytes: Uint8Array;
  readonly anchor: number;
}

/** A pattern of ASCII `text` (one byte per character), looked for by its character at `anchor` (default: the first). */
export function bytePattern(text: string, anchor = 0): BytePattern {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return { bytes, anchor };
}

/** Whether `bytes` holds `pattern` at `at`. */
export function bytesAt(bytes: Uint8Array, at: number, pattern: BytePattern): boolean {
  const p = pattern.bytes;
  const n = p.byteLength;
  if (at < 0 || at + n > bytes.byteLength) return false;
  for (let i = 0; i < n; i++) if (bytes[at + i] !== p[i]) return false;
  return true;
}

/** Whether `bytes` from `start` to `end` is exactly `pattern`. */
export function bytesAre(bytes: Uint8Array, start: number, end: number, pattern: BytePattern): boolean {
  return end - start === pattern.bytes.byteLength && bytesAt(bytes, start, pattern);
}

type ByteSearch = (this: Uint8Array, byte: number, from: number) => number;

/**
 * Node's own byte search, where it is one: `Buffer.prototype.indexOf` takes any Uint8Array and
 * calls memchr, about 0.01-0.03 ns a byte against 0.25 for V8's `Uint8Array.prototype.indexOf`,
 * which compares one byte at a time (`npm run bench:byte-search`), for about 30 ns more a call.
 * Checked once to behave as the typed array's; else (no Node `Buffer`) the typed array's own.
 */
const memchr: ByteSearch | undefined = (() => {
  try {
    const own = (globalThis as { Buffer?: { prototype?: { indexOf?: unknown } } }).Buffer?.prototype?.indexOf;
    if (typeof own !== 'function') return undefined;
    const search = own as ByteSearch;
    const probe = Uint8Array.of(10, 13, 10, 13);
    return search.call(probe, 13, 0) === 1 && search.call(probe, 13, 2) === 3 && search.call(probe, 9, 0) === -1 && search.call(probe, 10, 4) === -1
      ? search
      : undefined;
  } catch {
    return undefined;
  }
})();

/** Which search {@link indexOfByte} is: Node's memchr, or the typed array's own. */
export const byteSearch: 'memchr' | 'typed array' = memchr === undefined ? 'typed array' : 'memchr';

/**
 * Where `byte` first is in `bytes` from `from` (0 <= from) on; -1 if nowhere. For searches that
 * run long: a whole read, a line of an event (Node's memchr where it has one; see above).
 */
export const indexOfByte: (bytes: Uint8Array, byte: number, from: number) => number =
  memchr === undefined ? (bytes, byte, from) => bytes.indexOf(byte, from) : (bytes, byte, from) => memchr.call(bytes, byte, from);

/** Where `pattern` last starts in `bytes[start, end)`; -1 if nowhere. */
export function lastIndexOfBytes(bytes: Uint8Array, pattern: BytePattern, start: number, end: number): number {
  const k = pattern.anchor;
  const x = pattern.bytes[k]!;
  const last = end - pattern.bytes.byteLength;
  if (last < start) return -1;
  // (A negative position would have lastIndexOf count from the end: the loop stops before one.)
  for (let at = bytes.lastIndexOf(x, last + k); at - k >= start; at = at === 0 ? -1 : bytes.lastIndexOf(x, at - 1)) {
    if (bytesAt(bytes, at - k, pattern)) return at - k;
  }
  return -1;
}
