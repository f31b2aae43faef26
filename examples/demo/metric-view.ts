/**
 * Reads collected OpenTelemetry metrics the way a Prometheus query would: counters summed over
 * the points that match some attributes, histograms merged bucket by bucket, quantiles by
 * `histogram_quantile`'s linear interpolation inside a bucket.
 */
import type { Attributes, HrTime } from '@opentelemetry/api';
import { DataPointType } from '@opentelemetry/sdk-metrics';
import type { MetricData } from '@opentelemetry/sdk-metrics';

/** A histogram merged over several data points. */
export interface MergedHistogram {
  readonly count: number;
  readonly sum: number;
  /** Upper bounds of the finite buckets. */
  readonly boundaries: readonly number[];
  /** Per-bucket counts (not cumulative), one more than `boundaries`: the last is the +Inf bucket. */
  readonly counts: readonly number[];
}

interface Point {
  readonly attributes: Attributes;
  readonly startTime: HrTime;
  readonly endTime: HrTime;
  readonly value: unknown;
}

const seconds = (t: HrTime): number => t[0] + t[1] / 1e9;

/**
 * The q-quantile (0..1) of a histogram, exactly as Prometheus' `histogram_quantile` computes it:
 * find the bucket where the rank falls, interpolate linearly between its bounds (the first bucket
 * starts at 0), and answer the highest finite bound when the rank falls into the +Inf bucket.
 * @returns NaN for an empty histogram
 */
export function histogramQuantile(q: number, histogram: MergedHistogram): number {
  const { boundaries, counts } = histogram;
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0 || boundaries.length === 0) return Number.NaN;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < counts.length; i++) {
    const inBucket = counts[i]!;
    if (below + inBucket >= rank && inBucket > 0) {
      if (i === boundaries.length) return boundaries[i - 1]!;
      const upper = boundaries[i]!;
      const lower = i === 0 ? Math.min(0, upper) : boundaries[i - 1]!;
      return lower + (upper - lower) * ((rank - below) / inBucket);
    }
    below += inBucket;
  }
  return boundaries.at(-1)!;
}

/** Look-ups over one collection of metrics. */
export class MetricView {
  readonly #metrics: readonly MetricData[];

  constructor(metrics: readonly MetricData[]) {
    this.#metrics = metrics;
  }

  #points(name: string, match: Attributes): Point[] {
    const metric = this.#metrics.find((m) => m.descriptor.name === name);
    if (metric === undefined) return [];
    return (metric.dataPoints as Point[]).filter((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v));
  }

  /** A counter summed over the points whose attributes include `match`. */
  sum(name: string, match: Attributes = {}): number {
    return this.#points(name, match).reduce((total, p) => total + (p.value as number), 0);
  }

  /** The value of each point whose attributes include `match` (a gauge's last observations), with its attributes. */
  values(name: string, match: Attributes = {}): Array<{ readonly attributes: Attributes; readonly value: number }> {
    return this.#points(name, match).map((p) => ({ attributes: p.attributes, value: p.value as number }));
  }

  /** The distinct combinations of the attributes `by` among the points that include `match`. */
  combinations(name: string, by: readonly string[], match: Attributes = {}): Array<Record<string, string>> {
    const out = new Map<string, Record<string, string>>();
    for (const p of this.#points(name, match)) {
      const combo = Object.fromEntries(by.map((k) => [k, String(p.attributes[k] ?? '')]));
      out.set(JSON.stringify(combo), combo);
    }
    return [...out.values()];
  }

  /**
   * When the first of the points that include `match` began (Unix seconds): a cumulative series
   * starts when the SDK first records it, so for a counter split by outcome this is when the first
   * such outcome happened. undefined: no such point.
   */
  firstSeen(name: string, match: Attributes = {}): number | undefined {
    const points = this.#points(name, match);
    return points.length === 0 ? undefined : Math.min(...points.map((p) => seconds(p.startTime)));
  }

  /** A counter summed per value of the attribute `by`, over the points that include `match`. */
  sumBy(name: string, by: string, match: Attributes = {}): Map<string, number> {
    const out = new Map<string, number>();
    for (const p of this.#points(name, match)) {
      const key = String(p.attributes[by] ?? '');
      out.set(key, (out.get(key) ?? 0) + (p.value as number));
    }
    return out;
  }

  /**
   * The time the points of a cumulative metric cover, in seconds: from the earliest start time
   * (when the SDK first saw one of the series) to the collection.
   */
  window(name: string, match: Attributes = {}): number {
    const points = this.#points(name, match);
    if (points.length === 0) return 0;
    const start = Math.min(...points.map((p) => seconds(p.startTime)));
    const end = Math.max(...points.map((p) => seconds(p.endTime)));
    return end - start;
  }

  /** A histogram merged over the points whose attributes include `match`. */
  histogram(name: string, match: Attributes = {}): MergedHistogram {
    const metric = this.#metrics.find((m) => m.descriptor.name === name);
    if (metric !== undefined && metric.dataPointType !== DataPointType.HISTOGRAM) throw new Error(`${name} is not a histogram`);
    let count = 0;
    let sum = 0;
    let boundaries: readonly number[] = [];
    let counts: number[] = [];
    for (const p of this.#points(name, match)) {
      const v = p.value as { count: number; sum?: number; buckets: { boundaries: number[]; counts: number[] } };
      count += v.count;
      sum += v.sum ?? 0;
      boundaries = v.buckets.boundaries;
      counts = v.buckets.counts.map((c, i) => c + (counts[i] ?? 0));
    }
    return { count, sum, boundaries, counts };
  }
}
