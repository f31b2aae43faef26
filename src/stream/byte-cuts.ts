/*
 * Cutting ranges out of a network chunk's bytes in place, for the SSE reader while it hides the
 * usage inferometer asked for: the app gets the chunk's own bytes without what the protocol cut
 * out, instead of the chunk decoded, re-joined as text and encoded anew (two copies of every
 * chunk). Positions are byte offsets, which are character offsets in ASCII text.
 */

/** The kept segments of the current compose(): source start, source end, destination, …; reused. */
const segments: number[] = [];
let segmentCount = 0;
let composed = 0;

/** Adds the kept segment from `start` to `stop`; one across the carry's end and the chunk's start is two, one from each. */
function keep(start: number, stop: number): void {
  if (start < 0 && stop > 0) {
    keep(start, 0);
    keep(0, stop);
  } else if (stop > start) {
    segments[segmentCount++] = start;
    segments[segmentCount++] = stop;
    segments[segmentCount++] = composed;
    composed += stop - start;
  }
}

/**
 * The bytes from `from` to `end` without the first `cutCount / 2` ranges in `cuts` (start, end, … in order, none
 * overlapping), where positions from 0 are `chunk`'s and those below 0 are `carry`'s (its last
 * `-from` bytes); null if nothing is left. With `inPlace`, written into `chunk` when they fit
 * within `end` (nearly always: what is cut out of a chunk outweighs the little carried into it):
 * only for bytes nobody else holds (a network chunk the tap read, which the app never sees as it
 * came). Else into a new array. `chunk` from `end` on is left as it is (the next read's carry).
 */
export function compose(
  chunk: Uint8Array,
  carry: Uint8Array | undefined,
  from: number,
  end: number,
  cuts: readonly number[],
  cutCount: number,
  inPlace: boolean,
): Uint8Array | null {
  if (from === 0 && cutCount === 0) return end === chunk.byteLength ? chunk : end <= 0 ? null : chunk.subarray(0, end);
  segmentCount = 0;
  composed = 0;
  let at = from;
  for (let i = 0; i < cutCount; i += 2) {
    keep(at, cuts[i]!);
    at = cuts[i + 1]!;
  }
  keep(at, end);
  const length = composed;
  if (length === 0) return null;
  if (!inPlace || length > end) {
    const out = new Uint8Array(length);
    for (let i = 0; i < segmentCount; i += 3) {
      const start = segments[i]!;
      const stop = segments[i + 1]!;
      out.set(start < 0 ? carry!.subarray(start - from, stop - from) : chunk.subarray(start, stop), segments[i + 2]!);
    }
    return out;
  }
  // In place. A segment's move (destination - source) only shrinks along the chunk, so those
  // that move right come first: they are moved last-first, then the others first-last, so that
  // none overwrites bytes not moved yet; then the carry's bytes, into the room made at the start.
  for (let i = segmentCount - 3; i >= 0; i -= 3) {
    const start = segments[i]!;
    const to = segments[i + 2]!;
    if (start >= 0 && to > start) chunk.copyWithin(to, start, segments[i + 1]!);
  }
  for (let i = 0; i < segmentCount; i += 3) {
    const start = segments[i]!;
    const to = segments[i + 2]!;
    if (start >= 0 && to < start) chunk.copyWithin(to, start, segments[i + 1]!);
  }
  for (let i = 0; i < segmentCount; i += 3) {
    const start = segments[i]!;
    if (start < 0) chunk.set(carry!.subarray(start - from, segments[i + 1]! - from), segments[i + 2]!);
  }
  return length === chunk.byteLength ? chunk : chunk.subarray(0, length);
}

/**
 * `text`, whose first character is at position `origin`, up to position `end`, without the first
 * `cutCount / 2` ranges in `cuts` (start, end, … in order, as positions).
 */
export function withoutRanges(text: string, origin: number, end: number, cuts: readonly number[], cutCount: number): string {
  let out = '';
  let from = origin;
  for (let i = 0; i < cutCount; i += 2) {
    out += text.slice(from - origin, cuts[i]! - origin);
    from = cuts[i + 1]!;
  }
  return out + text.slice(from - origin, end - origin);
}
