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
