import { DURATION_BUCKETS } from '../semconv.js';

const BOUNDS = DURATION_BUCKETS.map((s) => s * 1000); // ms, as the clock gives them
const N = BOUNDS.length + 1;

/**
 * The per-chunk gaps of one stream, kept per histogram bucket (count, sum, min, max), so that a
 * stream of any length holds 4 x 15 numbers instead of one number per chunk, and the hot path does
 * a short scan and four stores instead of an OTel `record` (about 1.5 us with 7 attributes).
 *
 * {@link replay} hands them to a histogram with the same bucket boundaries such that its bucket
 * counts, count, sum, min and max equal those of one record per chunk.
 */
export class GapHistogram {
  readonly counts = new Uint32Array(N);
  readonly sums = new Float64Array(N);
  readonly mins = new Float64Array(N);
  readonly maxs = new Float64Array(N);
  total = 0;
  /** The largest gap seen (ms). */
  max = 0;

  add(ms: number): void {
    let i = 0;
    while (i < N - 1 && ms > BOUNDS[i]!) i++;
    const n = this.counts[i]!;
    if (n === 0 || ms < this.mins[i]!) this.mins[i] = ms;
    if (n === 0 || ms > this.maxs[i]!) this.maxs[i] = ms;
    this.counts[i] = n + 1;
    this.sums[i]! += ms;
    this.total++;
    if (ms > this.max) this.max = ms;
  }

  /**
   * Calls `record(valueInSeconds)` once per gap added: per bucket its min, its max, and the
   * mean of the rest for the others (which lies between them, so in the same bucket).
   */
  replay(record: (seconds: number) => void): void {
    for (let i = 0; i < N; i++) {
      const n = this.counts[i]!;
      if (n === 0) continue;
      const min = this.mins[i]!;
      const max = this.maxs[i]!;
      record(min / 1000);
      if (n === 1) continue;
      record(max / 1000);
      if (n === 2) continue;
      const rest = (this.sums[i]! - min - max) / (n - 2) / 1000;
      for (let k = 2; k < n; k++) record(rest);
    }
  }
}
