/**
 * What the demo's scorecard says each query of dashboards/grafana.json should show, and how
 * closely: the checks of test/e2e/grafana-dashboard.e2e.ts, and the scorecard's JSON shape.
 */
import { DURATION_BUCKETS, SPEED_BUCKETS } from 'inferometer';

/** One workload of the demo's `--json` scorecard, or one provider's part of it (examples/demo/scorecard.ts, `scorecardJson`). */
export interface Score {
  providers: string[];
  models: string[];
  requests: { success: number; error: number; cancelled: number; total: number };
  ttft: { p50: number; p95: number; p99: number };
  chunkGap: { p50: number; p99: number };
  maxChunkGapP99: number;
  outputSpeedP50: number;
  endToEndP99: number;
  errorRates: Record<string, number>;
  errorRate: number;
  availability: number;
  attempts: number;
  retriesPerRequest: number;
  slo: { met: number; total: number };
  goodput: number;
  spend: number;
  costPerAnswer: number;
  wasted: number;
}
/** Workload class -> its score. */
export type Scores = Readonly<Record<string, Score>>;
export interface DemoReport {
  startedAt: number;
  collectedAt: number;
  workloads: Scores;
  /** Provider -> workload class -> the part of the workload that provider served. */
  byProvider: Record<string, Scores>;
}

// What the scorecard says each query should show, and how closely.
//
// Every query runs twice. First as Grafana runs it, with the rate window covering the whole run.
// rate() sees a series only from its first scrape on, and extrapolates to the window's edges:
// on a 20-s run, a series born mid-run with one or two increments (an error type, a retry
// status, a missed objective) loses most of them, so ratios of such counters read low, while
// the dense counters stay within a few percent. Quantiles stay within the histogram's resolution
// of the cumulative quantile at a rank moved by a little (RANK_SLACK): rate() scales each series
// by what it saw of it, and series scaled differently move ranks, by a share of the observations
// on the nearer side of the quantile. That matters where a class mixes two providers: batch's
// output speed has one mode per provider and its median sits between them, where a few percent
// of rank move it across buckets. Then with every `rate(x[$__rate_interval])` and
// `increase(x[$__range])` replaced by `x`, the counters since the demo started: the same
// expressions must then give exactly the scorecard's numbers, which proves each formula.

export interface Context {
  readonly score: Score;
  /** The rate window of the first pass, in seconds. */
  readonly window: number;
  /** A quantile on the grafana pass: the range of the cumulative value with each quantile's rank moved by ±rankSlack(q). */
  readonly envelope?: { readonly lo: number; readonly hi: number };
}
type Pick = (score: Score, series: Record<string, string>) => number | undefined;
export type Check =
  /** A quantile: within the width of the bucket the scorecard's value falls in (the resolution of the histogram); exact on the cumulative pass. */
  | { readonly kind: 'quantile'; readonly pick: Pick; readonly resolution: (score: Score) => number }
  /** A ratio of counters: compared on the cumulative pass only. */
  | { readonly kind: 'ratio'; readonly pick: Pick }
  /**
   * A count per `per` seconds (NaN: a count over the window, increase()): count / window within
   * 15% when the count comes from many increments (at least `dense`), else on the cumulative pass
   * only; count x per exactly on the cumulative pass.
   */
  | { readonly kind: 'rate'; readonly count: Pick; readonly per: number; readonly dense: (count: number) => boolean }
  /** The same on both passes. */
  | { readonly kind: 'exact'; readonly pick: Pick };

const RATE_TOLERANCE = 0.15;
/**
 * How much rate() may scale one series of a class more than another on a 20-s run (each loses
 * what it counted before Prometheus first scraped it, every 500 ms), as a share of its
 * observations. A quantile q read from rate() is then off in rank by up to this share of the
 * observations on its nearer side: 2 x RANK_SLACK x min(q, 1 - q), 5% at the median, 0.5% at p95.
 */
const RANK_SLACK = 0.05;
export const rankSlack = (q: number): number => 2 * RANK_SLACK * Math.min(q, 1 - q);
/** Requests counted as a rate: 20 or more (one cancelled chat answer is no rate). */
const manyRequests = (n: number): boolean => n >= 20;
/** Spend of every request of a class: many increments. */
const always = (): boolean => true;
/** Spend of the few failed and cancelled requests: a handful of increments. */
const never = (): boolean => false;

/** Width of the bucket that holds `value`: the resolution of a quantile read from that histogram. */
function bucketWidth(boundaries: readonly number[], value: number): number {
  const i = boundaries.findIndex((b) => value <= b);
  if (i === -1) return Number.POSITIVE_INFINITY; // the +Inf bucket: histogram_quantile answers the last bound
  return boundaries[i]! - (i === 0 ? 0 : boundaries[i - 1]!);
}
const quantile = (boundaries: readonly number[], pick: (s: Score) => number): Check => ({
  kind: 'quantile',
  pick,
  resolution: (s) => bucketWidth(boundaries, pick(s)),
});
const ratio = (pick: Pick): Check => ({ kind: 'ratio', pick });
const OUTCOMES = ['success', 'error', 'cancelled'] as const;
const outcomeCount = (s: Score, series: Record<string, string>): number | undefined => {
  const outcome = OUTCOMES.find((o) => o === series['inferometer_outcome']);
  return outcome === undefined ? undefined : s.requests[outcome];
};

/** `panel title#refId` -> its check, for the series of one workload class. */
export const CHECKS: Readonly<Record<string, Check>> = {
  'Time to first token p50 / p95 / p99#A': quantile(DURATION_BUCKETS, (s) => s.ttft.p50),
  'Time to first token p50 / p95 / p99#B': quantile(DURATION_BUCKETS, (s) => s.ttft.p95),
  'Time to first token p50 / p95 / p99#C': quantile(DURATION_BUCKETS, (s) => s.ttft.p99),
  'TTFT spread (p95 - p50)#A': {
    kind: 'quantile',
    pick: (s) => s.ttft.p95 - s.ttft.p50,
    resolution: (s) => bucketWidth(DURATION_BUCKETS, s.ttft.p95) + bucketWidth(DURATION_BUCKETS, s.ttft.p50),
  },
  'Time to first chunk vs first token, p95#B': quantile(DURATION_BUCKETS, (s) => s.ttft.p95),
  'Stalls: gap between chunks p99#A': quantile(DURATION_BUCKETS, (s) => s.chunkGap.p99),
  'Stalls: worst gap per request p99#A': quantile(DURATION_BUCKETS, (s) => s.maxChunkGapP99),
  'Output speed median (tokens/s)#A': quantile(SPEED_BUCKETS, (s) => s.outputSpeedP50),
  'Completed requests per hour#A': { kind: 'rate', count: (s) => s.requests.success, per: 3600, dense: manyRequests },
  'End-to-end latency p95 / p99#B': quantile(DURATION_BUCKETS, (s) => s.endToEndP99),
  'Availability: success / (success + error)#A': ratio((s) => s.availability),
  'Error rate by error.type#A': ratio((s, series) => s.errorRates[series['error_type']!] ?? 0),
  'Rate limits: 429s among attempts, and requests lost to them#B': ratio((s) => s.errorRates['429'] ?? 0),
  'Retries per request#A': ratio((s) => s.retriesPerRequest),
  'Error rate, all types#A': ratio((s) => s.errorRate),
  'Cost per completed answer#A': ratio((s) => s.costPerAnswer),
  'Spend per hour by outcome#A': { kind: 'rate', count: (s, series) => (series['inferometer_outcome'] === 'success' ? s.spend - s.wasted : undefined), per: 3600, dense: always },
  'Wasted spend (failed + cancelled)#A': { kind: 'rate', count: (s) => s.wasted, per: 3600, dense: never },
  'Wasted spend (failed + cancelled)#B': ratio((s) => s.wasted / s.spend),
  'Spend in the selected time range#A': { kind: 'rate', count: (s) => s.spend, per: Number.NaN, dense: always },
  'Goodput: met / total#A': ratio((s) => s.goodput),
  'Active requests#A': { kind: 'exact', pick: () => 0 },
  'Requests per second by outcome#A': { kind: 'rate', count: outcomeCount, per: 1, dense: manyRequests },
};
/** Checks of the per-model panels, for a model that only one part of one workload used (see {@link modelScores}). */
export const MODEL_CHECKS: Readonly<Record<string, Check>> = {
  'Per model: TTFT p95 and end-to-end p99#A': quantile(DURATION_BUCKETS, (s) => s.ttft.p95),
  'Per model: TTFT p95 and end-to-end p99#B': quantile(DURATION_BUCKETS, (s) => s.endToEndP99),
  'Per model: error rate and cost per completed answer#A': ratio((s) => s.errorRate),
  'Per model: error rate and cost per completed answer#B': ratio((s) => s.costPerAnswer),
};

export type Pass = 'grafana' | 'cumulative';

/**
 * The score of each model that exactly one workload used on one provider (claude-sonnet-4-6: the
 * agent on anthropic; gemini-2.5-flash: batch on gcp.gemini): what its per-model series must show.
 * gpt-4o-mini serves chat and half of batch, so no scorecard column holds it alone.
 */
export function modelScores(r: DemoReport): Map<string, Score> {
  const users = new Map<string, Score[]>();
  for (const scores of Object.values(r.byProvider)) {
    for (const score of Object.values(scores)) for (const m of score.models) users.set(m, [...(users.get(m) ?? []), score]);
  }
  return new Map([...users].filter(([, s]) => s.length === 1 && s[0]!.models.length === 1).map(([m, s]) => [m, s[0]!]));
}

export interface Expected {
  readonly value: number;
  /** The range the query's value must fall in. */
  readonly lo: number;
  readonly hi: number;
  readonly what: string;
}
const around = (value: number, tolerance: number, what: string): Expected => ({ value, lo: value - tolerance, hi: value + tolerance, what });

/** The scorecard's value for a series on a pass, and the range allowed around it; undefined when there is nothing to compare. */
export function expectation(check: Check, pass: Pass, c: Context, series: Record<string, string>): Expected | undefined {
  switch (check.kind) {
    case 'quantile': {
      const value = check.pick(c.score, series)!;
      if (pass === 'cumulative') return around(value, Math.abs(value) * 1e-9, 'exactly');
      // Within a bucket width of the quantiles a few percent of rank either side.
      const width = check.resolution(c.score);
      const lo = Math.min(value, c.envelope?.lo ?? value) - width;
      const hi = Math.max(value, c.envelope?.hi ?? value) + width;
      return { value, lo, hi, what: 'rank ± slack, ± bucket width' };
    }
    case 'ratio': {
      const value = check.pick(c.score, series);
      return pass === 'cumulative' && value !== undefined ? around(value, Math.abs(value) * 1e-9, 'exactly') : undefined;
    }
    case 'rate': {
      const count = check.count(c.score, series);
      if (count === undefined) return undefined;
      // increase() over the window (per = NaN) is a count; rate() is a count per second.
      const scale = Number.isNaN(check.per) ? 1 : check.per;
      if (pass === 'cumulative') return around(count * scale, Math.abs(count * scale) * 1e-9, 'exactly');
      if (!check.dense(count)) return undefined;
      const value = Number.isNaN(check.per) ? count : (count / c.window) * scale;
      return around(value, Math.abs(value) * RATE_TOLERANCE, `${RATE_TOLERANCE * 100}%`);
    }
    case 'exact': {
      const value = check.pick(c.score, series)!;
      return around(value, 0, 'exactly');
    }
  }
}

/** A dashboard query over the counters since the app started: `rate(x[w])` and `increase(x[w])` become `x`. */
export function cumulative(expr: string): string {
  return expr.replace(/\b(?:rate|increase)\(([^()]*?)\[\$__(?:rate_interval|range)\]\)/g, '$1');
}

/**
 * The query with each `histogram_quantile(q, ...)` moved to q - slack(q) or q + slack(q), every
 * combination (a spread p95 - p50 has four): the variants whose values bound the query's when
 * the ranks are off by up to `slack(q)`.
 */
export function rankVariants(expr: string, slack: (q: number) => number): string[] {
  const qs = [...expr.matchAll(/histogram_quantile\(([\d.]+),/g)].map((m) => Number(m[1]));
  return Array.from({ length: 2 ** qs.length }, (_, combo) => {
    let i = 0;
    return expr.replace(/histogram_quantile\(([\d.]+),/g, () => {
      const q = qs[i]!;
      const shifted = q + ((combo >> i++) & 1 ? slack(q) : -slack(q));
      return `histogram_quantile(${Math.min(1, Math.max(0, shifted)).toFixed(4)},`;
    });
  });
}
