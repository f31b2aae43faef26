import { DURATION_BUCKETS } from '../semconv.js';

const BOUNDS = DURATION_BUCKETS.map((s) => s * 1000); // ms, as the clock gives them
const N = BOUNDS.length + 1;
// Offsets of the four per-bucket series in the one backing array.
const COUNT = 0;
const SUM = N;
const MIN = 2 * N;
const MAX = 3 * N;

/**
 * The gaps of many streams as one explicit-bucket histogram data point holds them (ms): counts
 * per bucket of the same boundaries, and the count, sum, min and max over all.
 */
export interface GapTotals {
  readonly counts: number[];
  count: number;
  sum: number;
  min: number;
  max: number;
}

/** Empty totals, to add streams to with {@link GapHistogram.addTo}. */
export function emptyGapTotals(): GapTotals {
  return { counts: new Array<number>(N).fill(0), count: 0, sum: 0, min: Infinity, max: -Infinity };
}

/**
 * The per-chunk gaps of one stream, kept per histogram bucket (count, sum, min, max) in one
 * Float64Array: a stream of any length holds 60 numbers (480 bytes) instead of one per chunk,
 * and the hot path does a short scan and four stores instead of an OTel `record`.
 *
 * {@link replay} hands them to a histogram with the same bucket boundaries such that its bucket
 * counts, count, sum, min and max equal those of one record per chunk.
 */
export class GapHistogram {
  readonly #v = new Float64Array(4 * N);
  total = 0;
  /** The largest gap seen (ms). */
  max = 0;

  add(ms: number): void {
    let i = 0;
    while (i < N - 1 && ms > BOUNDS[i]!) i++;
    const v = this.#v;
    const n = v[COUNT + i]!;
    if (n === 0 || ms < v[MIN + i]!) v[MIN + i] = ms;
    if (n === 0 || ms > v[MAX + i]!) v[MAX + i] = ms;
    v[COUNT + i] = n + 1;
    v[SUM + i]! += ms;
    this.total++;
    if (ms > this.max) this.max = ms;
  }

  /** The number of gaps per bucket (bucket i: (BOUNDS[i-1], BOUNDS[i]]; the last: above them all). */
  counts(): number[] {
    return Array.from(this.#v.subarray(COUNT, COUNT + N));
  }

  /**
   * Adds this stream's gaps to `totals`: the same bucket counts, count, sum, min and max as one
   * record per gap would give a histogram with these boundaries. Work per bucket, not per gap.
   */
  addTo(totals: GapTotals): void {
    const v = this.#v;
    for (let i = 0; i < N; i++) {
      const n = v[COUNT + i]!;
      if (n === 0) continue;
      totals.counts[i]! += n;
      totals.count += n;
      totals.sum += v[SUM + i]!;
      if (v[MIN + i]! < totals.min) totals.min = v[MIN + i]!;
      if (v[MAX + i]! > totals.max) totals.max = v[MAX + i]!;
    }
  }

  /**
   * Calls `record(valueInSeconds)` once per gap added: per bucket its min, its max, and the
   * mean of the rest for the others (which lies between them, so in the same bucket).
   */
  replay(record: (seconds: number) => void): void {
    const v = this.#v;
    for (let i = 0; i < N; i++) {
      const n = v[COUNT + i]!;
      if (n === 0) continue;
      const min = v[MIN + i]!;
      const max = v[MAX + i]!;
      record(min / 1000);
      if (n === 1) continue;
      record(max / 1000);
      if (n === 2) continue;
      const rest = (v[SUM + i]! - min - max) / (n - 2) / 1000;
      for (let k = 2; k < n; k++) record(rest);
    }
  }
}
