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
  /** Time to response headers. */
  headers: { p50: number; p95: number };
  /** The provider's own processing time; null where no provider of the part reports one. */
  processing: { p50: number | null; p95: number | null };
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

/** One model of one provider (examples/demo/model-scorecard.ts): times in seconds, `...At` since the traffic began; null: none. */
export interface ModelScore {
  provider: string;
  model: string;
  headers: { p50: number; p95: number };
  processing: { p50: number | null; p95: number | null };
  retryAfterP95: number | null;
  rateLimited: number;
  /** `inferometer.ratelimit.resource` -> the lowest remaining / limit sampled through the run. */
  headroom: Record<string, { limit: number; lowest: number; lowestAt: number; lowAt: number | null }>;
  lowAt: number | null;
  first429At: number | null;
}

export interface DemoReport {
  startedAt: number;
  trafficStartedAt: number;
  collectedAt: number;
  workloads: Scores;
  /** Provider -> workload class -> the part of the workload that provider served. */
  byProvider: Record<string, Scores>;
  /** Provider -> model -> its rate-limit headroom, retry-after and timing. */
  byModel: Record<string, Record<string, ModelScore>>;
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

export interface Context<S = Score> {
  readonly score: S;
  /** The rate window of the first pass, in seconds. */
  readonly window: number;
  /** A quantile on the grafana pass: the range of the cumulative value with each quantile's rank moved by ±rankSlack(q). */
  readonly envelope?: { readonly lo: number; readonly hi: number };
}
type Pick<S = Score> = (score: S, series: Record<string, string>) => number | null | undefined;
export type Check<S = Score> =
  /** A quantile: within the width of the bucket the scorecard's value falls in (the resolution of the histogram); exact on the cumulative pass. */
  | { readonly kind: 'quantile'; readonly pick: Pick<S>; readonly resolution: (score: S) => number }
  /** A ratio of counters: compared on the cumulative pass only. */
  | { readonly kind: 'ratio'; readonly pick: Pick<S> }
  /**
   * A gauge's lowest value over the run, which the demo sampled every 100 ms and Prometheus every
   * 500 ms: the same on both passes, within what either can miss between two samples. Prometheus
   * may read up to `above` more (it missed the trough the demo saw), or `below` less (the demo missed one).
   */
  | { readonly kind: 'sampled'; readonly pick: Pick<S>; readonly below: number; readonly above: number }
  /**
   * A count per `per` seconds (NaN: a count over the window, increase()): count / window within
   * 15% when the count comes from many increments (at least `dense`), else on the cumulative pass
   * only; count x per exactly on the cumulative pass.
   */
  | { readonly kind: 'rate'; readonly count: Pick<S>; readonly per: number; readonly dense: (count: number) => boolean }
  /** The same on both passes. */
  | { readonly kind: 'exact'; readonly pick: Pick<S> };

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
const quantile = <S = Score>(boundaries: readonly number[], pick: (s: S) => number | null): Check<S> => ({
  kind: 'quantile',
  pick,
  resolution: (s) => bucketWidth(boundaries, pick(s) ?? Number.NaN),
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
  // Per workload and model: the part of the workload that used the model (see sliceScores).
  "Where the first token's time goes#A": quantile(DURATION_BUCKETS, (s) => s.headers.p50),
  "Where the first token's time goes#B": quantile(DURATION_BUCKETS, (s) => s.headers.p95),
  "Where the first token's time goes#C": quantile(DURATION_BUCKETS, (s) => s.ttft.p50),
  "Where the first token's time goes#D": quantile(DURATION_BUCKETS, (s) => s.ttft.p95),
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

/**
 * How much lower or higher Prometheus' lowest headroom may read than the demo's: what a quota
 * drains between two samples. At the demo's load a model's quota drains at most about 12% of its
 * limit in 500 ms (gpt-4o-mini: 64 requests per 6 s window; claude-sonnet-4-6: 2,800 output
 * tokens per 5 s window), so Prometheus, scraping every 500 ms, can read up to that much above
 * the trough the demo's 100-ms samples saw, and the demo up to a fifth of it above Prometheus'.
 */
const SCRAPE_DRAIN = 0.15;
const SAMPLE_DRAIN = 0.05;

/** Checks of the per provider and model panels (rate limits, retry-after, the provider's time), against the scorecard's `byModel`. */
export const PROVIDER_MODEL_CHECKS: Readonly<Record<string, Check<ModelScore>>> = {
  'Lowest rate-limit headroom in the time range#A': {
    kind: 'sampled',
    pick: (m, series) => m.headroom[series['inferometer_ratelimit_resource']!]?.lowest,
    below: SAMPLE_DRAIN,
    above: SCRAPE_DRAIN,
  },
  'Retry-after asked by the provider, p95#A': quantile<ModelScore>(DURATION_BUCKETS, (m) => m.retryAfterP95),
  'Provider processing time vs time to response headers, p50#A': quantile<ModelScore>(DURATION_BUCKETS, (m) => m.processing.p50),
  'Provider processing time vs time to response headers, p50#B': quantile<ModelScore>(DURATION_BUCKETS, (m) => m.headers.p50),
};

export type Pass = 'grafana' | 'cumulative';

/**
 * The part of each workload that one model served, keyed `workload|model`, where the model is
 * the only one of that part and no other part of the workload used it (batch|gpt-4o-mini: batch on
 * openai; batch|gemini-2.5-flash: batch on gcp.gemini): what a series per workload and model shows.
 */
export function sliceScores(r: DemoReport): Map<string, Score> {
  const out = new Map<string, Score>();
  const seen = new Map<string, number>();
  for (const scores of Object.values(r.byProvider)) {
    for (const [workload, score] of Object.entries(scores)) {
      for (const m of score.models) seen.set(`${workload}|${m}`, (seen.get(`${workload}|${m}`) ?? 0) + 1);
      if (score.models.length === 1) out.set(`${workload}|${score.models[0]}`, score);
    }
  }
  return new Map([...out].filter(([key]) => seen.get(key) === 1));
}

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
export function expectation<S>(check: Check<S>, pass: Pass, c: Context<S>, series: Record<string, string>): Expected | undefined {
  switch (check.kind) {
    case 'sampled': {
      const value = check.pick(c.score, series);
      if (value === undefined || value === null) return undefined;
      return { value, lo: value - check.below, hi: value + check.above, what: `-${check.below} to +${check.above}: sampled 500 ms apart, not 100 ms` };
    }
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
      return pass === 'cumulative' && value !== undefined && value !== null ? around(value, Math.abs(value) * 1e-9, 'exactly') : undefined;
    }
    case 'rate': {
      const count = check.count(c.score, series);
      if (count === undefined || count === null) return undefined;
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
