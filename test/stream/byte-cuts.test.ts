import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compose, withoutRanges } from '../../src/stream/byte-cuts.js';

/** What compose() must give: the carry then the chunk, from `from` to `end`, without the cut ranges. */
function expected(carry: Uint8Array, chunk: Uint8Array, from: number, end: number, cuts: number[]): number[] {
  const all = [...carry, ...chunk]; // position p is all[p + carry.length]
  const out: number[] = [];
  for (let p = from; p < end; p++) {
    let cut = false;
    for (let i = 0; i < cuts.length; i += 2) if (p >= cuts[i]! && p < cuts[i + 1]!) cut = true;
    if (!cut) out.push(all[p + carry.length]!);
  }
  return out;
}

/** A carry, a chunk, where the composed bytes end, and sorted disjoint cuts in [-carry, end). */
const scenario = fc
  .record({ carry: fc.uint8Array({ maxLength: 40 }), chunk: fc.uint8Array({ minLength: 0, maxLength: 120 }), endBack: fc.nat(30), marks: fc.array(fc.nat(200), { maxLength: 16 }) })
  .map(({ carry, chunk, endBack, marks }) => {
    const from = -carry.length;
    const end = Math.max(from, chunk.length - Math.min(endBack, chunk.length));
    const span = end - from;
    const points = [...new Set(marks.map((m) => (span === 0 ? from : from + (m % (span + 1)))))].sort((a, b) => a - b);
    if (points.length % 2 === 1) points.pop();
    return { carry, chunk, from, end, cuts: points };
  });

describe('compose: a network chunk without ranges, in place', () => {
  it('gives the carry and the chunk without the cut ranges, whatever the ranges; leaves the chunk after `end` as it was, and all of it when not in place', () => {
    fc.assert(
      fc.property(scenario, fc.boolean(), ({ carry, chunk, from, end, cuts }, inPlace) => {
        const want = expected(carry, chunk, from, end, cuts);
        const tail = [...chunk.subarray(Math.max(end, 0))];
        const copy = Uint8Array.from(chunk);
        const got = compose(copy, carry.length > 0 ? carry : undefined, from, end, cuts, cuts.length, inPlace);
        expect(got === null ? [] : [...got]).toEqual(want);
        // The bytes from `end` on are the next read's carry: never written.
        expect([...copy.subarray(Math.max(end, 0))]).toEqual(tail);
        // In place where allowed and it fits within `end`; else never a byte of the chunk written.
        if (!inPlace) expect([...copy]).toEqual([...chunk]);
        else if (got !== null && want.length <= end) expect(got.buffer).toBe(copy.buffer);
      }),
      { numRuns: 3000 },
    );
  });

  it('hands back the chunk itself when nothing is cut and it all goes on', () => {
    const chunk = Uint8Array.from([1, 2, 3]);
    expect(compose(chunk, undefined, 0, 3, [], 0, false)).toBe(chunk);
    expect(compose(chunk, undefined, 0, 0, [], 0, false)).toBeNull();
  });
});

describe('withoutRanges: the same cut on text', () => {
  it('cuts the same characters as compose cuts bytes', () => {
    fc.assert(
      fc.property(scenario, ({ carry, chunk, from, end, cuts }) => {
        const text = String.fromCharCode(...carry, ...chunk);
        expect(withoutRanges(text, from, end, cuts, cuts.length)).toBe(String.fromCharCode(...expected(carry, chunk, from, end, cuts)));
      }),
      { numRuns: 1000 },
    );
  });
});
