import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { byteSearch, bytePattern, bytesAre, indexOfByte, lastIndexOfBytes } from '../../src/stream/bytes.js';

const encode = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('searching bytes for ASCII text', () => {
  it('finds the last place of a pattern where the text search finds it, within the range, whichever byte it is anchored on', () => {
    // Text of a few letters (so that patterns occur), and any range of it.
    const text = fc.stringMatching(/^[abc"_]{0,40}$/);
    fc.assert(
      fc.property(text, fc.stringMatching(/^[abc"_]{1,4}$/), fc.nat(), fc.nat(), fc.nat(), (haystack, needle, a, b, k) => {
        const bytes = encode(haystack);
        const start = a % (haystack.length + 1);
        const end = start + (b % (haystack.length - start + 1));
        const pattern = bytePattern(needle, k % needle.length);
        const range = haystack.slice(0, end);
        const last = range.lastIndexOf(needle);
        expect(lastIndexOfBytes(bytes, pattern, start, end)).toBe(last >= start ? last : -1);
      }),
      { numRuns: 2000 },
    );
  });

  it('counts positions in bytes, past text that is not ASCII', () => {
    const bytes = encode('é"usage":null,"usage":1');
    expect(lastIndexOfBytes(bytes, bytePattern('"usage"', 4), 0, bytes.length)).toBe(15);
    expect(lastIndexOfBytes(bytes, bytePattern('"usage"', 4), 0, 15)).toBe(2);
  });

  it('matches a whole range exactly', () => {
    const bytes = encode('xdata: [DONE]\n\n');
    expect(bytesAre(bytes, 1, bytes.length, bytePattern('data: [DONE]\n\n'))).toBe(true);
    expect(bytesAre(bytes, 0, bytes.length, bytePattern('data: [DONE]\n\n'))).toBe(false);
  });

  it('finds the first place of a byte from a position where the typed array finds it (Node memchr, or without a Node Buffer)', async () => {
    vi.stubGlobal('Buffer', undefined);
    vi.resetModules();
    const without = await import('../../src/stream/bytes.js');
    vi.unstubAllGlobals();
    expect(byteSearch).toBe('memchr');
    expect(without.byteSearch).toBe('typed array');
    const withoutBuffer = without.indexOfByte;
    const bytes = fc.uint8Array({ maxLength: 300 }).map((a) => a.map((b) => [10, 13, 32, 200][b % 4]!));
    fc.assert(
      fc.property(bytes, fc.constantFrom(10, 13, 32, 200, 9), fc.nat(), (haystack, byte, a) => {
        const from = a % (haystack.length + 2);
        const expected = haystack.indexOf(byte, from);
        expect(indexOfByte(haystack, byte, from)).toBe(expected);
        expect(withoutBuffer(haystack, byte, from)).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });
});
