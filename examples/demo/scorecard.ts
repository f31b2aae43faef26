/**
 * The per-workload scorecard, computed only from the collected OpenTelemetry metrics (what a
 * dashboard over the Prometheus endpoint would show), and its printed form.
 */
import {
  ATTR_ERROR_TYPE,
  ATTR_OUTCOME,
  ATTR_PROVIDER_NAME,
  ATTR_REQUEST_MODEL,
  ATTR_SLO_OUTCOME,
  ATTR_WORKLOAD_CLASS,
  METRIC_ATTEMPTS,
  METRIC_COST,
  METRIC_MAX_CHUNK_GAP,
  METRIC_OPERATION_DURATION,
  METRIC_OUTPUT_SPEED,
  METRIC_PROVIDER_PROCESSING_TIME,
  METRIC_REQUESTS,
  METRIC_REQUESTS_ACTIVE,
  METRIC_SLO_REQUESTS,
  METRIC_TIME_PER_OUTPUT_CHUNK,
  METRIC_TIME_TO_FIRST_TOKEN,
  METRIC_TIME_TO_RESPONSE_HEADERS,
  type Objectives,
} from 'inferometer';
import { type Row as TableRow, ms, num, pct, table, thousands, usd } from './format.ts';
import type { QuotaLow } from './headroom.ts';
import { type MetricView, histogramQuantile } from './metric-view.ts';
import { type ModelScore, computeModelScores, formatHeadroomYardsticks } from './model-scorecard.ts';

/**
 * What the metrics say about one workload class, or about the part of it one provider served.
 * Times in seconds, rates as fractions.
 */
export interface WorkloadScore {
  readonly workload: string;
  /** The provider (`gen_ai.provider.name`) this score is limited to; undefined: all of the workload's. */
  readonly provider: string | undefined;
  /** The providers and the requested models (`gen_ai.request.model`) of its requests, by name. */
  readonly providers: readonly string[];
  readonly models: readonly string[];
  readonly requests: { readonly success: number; readonly error: number; readonly cancelled: number; readonly total: number };
  readonly ttft: { readonly p50: number; readonly p95: number; readonly p99: number };
  /** `inferometer.time_to_response_headers`: the provider answering, before any output; TTFT minus this is prefill and the first token. */
  readonly headers: { readonly p50: number; readonly p95: number };
  /** `inferometer.provider.processing_time`, the provider's own figure; NaN where none reports one. */
  readonly processing: { readonly p50: number; readonly p95: number };
  readonly chunkGap: { readonly p50: number; readonly p99: number };
  /** p99 of the largest gap of each streamed request (`inferometer.max_chunk_gap`). */
  readonly maxChunkGapP99: number;
  readonly outputSpeedP50: number;
  readonly endToEndP99: number;
  readonly completedPerHour: number;
  /** Seconds from the workload's first request to the collection: what `completedPerHour` divides by. */
  readonly window: number;
  /** Failed requests per `error.type`, as a fraction of all requests. */
  readonly errorRates: ReadonlyMap<string, number>;
  readonly errorRate: number;
  /** success / (success + error): cancelled requests are the app's choice, not the provider's. */
  readonly availability: number;
  /** HTTP attempts, retries included (`inferometer.attempts`). */
  readonly attempts: number;
  readonly retriesPerRequest: number;
  /** Requests judged against the class's objectives (`inferometer.slo.requests`); 0 for a class without objectives. */
  readonly slo: { readonly met: number; readonly total: number };
  /** met / total: the share of requests that met every objective of their class; NaN without objectives. */
  readonly goodput: number;
  readonly spend: number;
  readonly costPerAnswer: number;
  /** Spend on requests that failed or were cancelled. */
  readonly wasted: number;
}

/** Every workload class, each one split by the providers that served it, and every model of every provider. */
export interface Scorecard {
  readonly workloads: readonly WorkloadScore[];
  /** One score per workload and provider, in the order of `workloads`. */
  readonly byProvider: readonly WorkloadScore[];
  /** One score per provider and model, whichever workloads used it: rate-limit headroom, retry-after, the provider's time. */
  readonly models: readonly ModelScore[];
}

/** The workloads the demo runs, and its providers, in the order the scorecard shows them; others follow by name. */
const ORDER = ['chat', 'batch', 'agent'];
const PROVIDER_ORDER = ['openai', 'anthropic', 'gcp.gemini'];

function ordered(names: Iterable<string>, order: readonly string[]): string[] {
  const rank = (n: string) => (order.includes(n) ? order.indexOf(n) : order.length);
  return [...names].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/**
 * Computes the scorecard of every workload class found in `inferometer.requests`, whole and per
 * provider, and of every provider's model.
 * @param quotas the rate-limit headroom sampled through the run (headroom.ts)
 * @param origin Unix seconds the traffic began
 */
export function computeScorecard(view: MetricView, quotas: readonly QuotaLow[], origin: number): Scorecard {
  const workloads = ordered(view.sumBy(METRIC_REQUESTS, ATTR_WORKLOAD_CLASS).keys(), ORDER).map((w) => scoreOf(view, w, undefined));
  const byProvider = workloads.flatMap((whole) => whole.providers.map((p) => scoreOf(view, whole.workload, p)));
  return { workloads, byProvider, models: computeModelScores(view, quotas, origin) };
}

function scoreOf(view: MetricView, workload: string, provider: string | undefined): WorkloadScore {
  const only = { [ATTR_WORKLOAD_CLASS]: workload, ...(provider !== undefined ? { [ATTR_PROVIDER_NAME]: provider } : {}) };
  const outcomes = view.sumBy(METRIC_REQUESTS, ATTR_OUTCOME, only);
  const success = outcomes.get('success') ?? 0;
  const error = outcomes.get('error') ?? 0;
  const cancelled = outcomes.get('cancelled') ?? 0;
  const total = success + error + cancelled;
  const quantile = (metric: string, q: number) => histogramQuantile(q, view.histogram(metric, only));
  const errorCounts = view.sumBy(METRIC_REQUESTS, ATTR_ERROR_TYPE, { ...only, [ATTR_OUTCOME]: 'error' });
  const spend = view.sum(METRIC_COST, only);
  const attempts = view.sum(METRIC_ATTEMPTS, only);
  const slo = { met: view.sum(METRIC_SLO_REQUESTS, { ...only, [ATTR_SLO_OUTCOME]: 'met' }), total: view.sum(METRIC_SLO_REQUESTS, only) };
  // From the workload's first request (when its requests.active series started) to the collection.
  const window = view.window(METRIC_REQUESTS_ACTIVE, only);
  return {
    workload,
    provider,
    providers: ordered(view.sumBy(METRIC_REQUESTS, ATTR_PROVIDER_NAME, only).keys(), PROVIDER_ORDER),
    models: [...view.sumBy(METRIC_REQUESTS, ATTR_REQUEST_MODEL, only).keys()].sort(),
    requests: { success, error, cancelled, total },
    ttft: { p50: quantile(METRIC_TIME_TO_FIRST_TOKEN, 0.5), p95: quantile(METRIC_TIME_TO_FIRST_TOKEN, 0.95), p99: quantile(METRIC_TIME_TO_FIRST_TOKEN, 0.99) },
    headers: { p50: quantile(METRIC_TIME_TO_RESPONSE_HEADERS, 0.5), p95: quantile(METRIC_TIME_TO_RESPONSE_HEADERS, 0.95) },
    processing: { p50: quantile(METRIC_PROVIDER_PROCESSING_TIME, 0.5), p95: quantile(METRIC_PROVIDER_PROCESSING_TIME, 0.95) },
    chunkGap: { p50: quantile(METRIC_TIME_PER_OUTPUT_CHUNK, 0.5), p99: quantile(METRIC_TIME_PER_OUTPUT_CHUNK, 0.99) },
    maxChunkGapP99: quantile(METRIC_MAX_CHUNK_GAP, 0.99),
    outputSpeedP50: quantile(METRIC_OUTPUT_SPEED, 0.5),
    endToEndP99: quantile(METRIC_OPERATION_DURATION, 0.99),
    completedPerHour: window > 0 ? (success / window) * 3600 : Number.NaN,
    window,
    errorRates: new Map([...errorCounts].map(([type, n]) => [type, n / total])),
    errorRate: error / total,
    availability: success / (success + error),
    attempts,
    retriesPerRequest: attempts / total - 1,
    slo,
    goodput: slo.total > 0 ? slo.met / slo.total : Number.NaN,
    spend,
    costPerAnswer: spend / success,
    wasted: view.sum(METRIC_COST, { ...only, [ATTR_OUTCOME]: 'error' }) + view.sum(METRIC_COST, { ...only, [ATTR_OUTCOME]: 'cancelled' }),
  };
}

/** Footnote markers of the table rows that need one (see {@link formatNotes}). */
const NOTE_PER_HOUR = '[1]';
const NOTE_OBJECTIVES = '[2]';

type Row = TableRow<WorkloadScore>;

/** Error types in the order the table lists them: 429 first (rate limits are not outages), then by name. */
function errorTypes(scores: readonly WorkloadScore[]): string[] {
  const types = new Set(scores.flatMap((s) => [...s.errorRates.keys()]));
  return [...types].sort((a, b) => Number(b === '429') - Number(a === '429') || a.localeCompare(b));
}

const PROVIDERS_ROW = 'provider (gen_ai.provider.name)';

function rows(scores: readonly WorkloadScore[]): Row[] {
  return [
    [PROVIDERS_ROW, (s) => s.providers.join('+')],
    ['requests  ok / error / cancelled', (s) => `${s.requests.success} / ${s.requests.error} / ${s.requests.cancelled}`],
    ['TTFT p50 (ms)', (s) => ms(s.ttft.p50)],
    ['TTFT p95 (ms)', (s) => ms(s.ttft.p95)],
    ['TTFT p99 (ms)', (s) => ms(s.ttft.p99)],
    ['TTFT spread p95-p50 (ms)', (s) => ms(s.ttft.p95 - s.ttft.p50)],
    ['time to response headers p50 (ms)', (s) => ms(s.headers.p50)],
    ['time to response headers p95 (ms)', (s) => ms(s.headers.p95)],
    ['provider processing time p50 (ms)', (s) => ms(s.processing.p50)],
    ['chunk gap p50 (ms)', (s) => num(s.chunkGap.p50 * 1000, 1)],
    ['chunk gap p99 (ms)', (s) => num(s.chunkGap.p99 * 1000, 1)],
    ['max chunk gap per request p99 (ms)', (s) => ms(s.maxChunkGapP99)],
    ['output speed p50 (tokens/s)', (s) => num(s.outputSpeedP50, 0)],
    ['end-to-end p99 (s)', (s) => num(s.endToEndP99, 2)],
    [`completed (requests/hour) ${NOTE_PER_HOUR}`, (s) => thousands(s.completedPerHour)],
    ['availability (%)', (s) => pct(s.availability)],
    [`goodput, met every objective (%) ${NOTE_OBJECTIVES}`, (s) => pct(s.goodput)],
    ['error rate, all (%)', (s) => pct(s.errorRate)],
    ...errorTypes(scores).map((type): Row => [`  error.type=${type} (%)`, (s) => pct(s.errorRates.get(type) ?? 0)]),
    ['retries per request', (s) => num(s.retriesPerRequest, 2)],
    ['spend (USD)', (s) => usd(s.spend)],
    ['cost per completed answer (USD)', (s) => usd(s.costPerAnswer)],
    ['wasted spend (USD, failed+cancelled)', (s) => usd(s.wasted)],
  ];
}

/** The scorecard as an aligned table: one row per measure (units in the row header), one column per workload. */
export function formatScorecard(scores: readonly WorkloadScore[]): string {
  return table([scores.map((s) => s.workload)], rows(scores), scores);
}

/** The rows of the per-provider table: what tells the providers of a workload apart. */
const PER_PROVIDER_ROWS = new Set([
  'requests  ok / error / cancelled',
  'TTFT p50 (ms)',
  'TTFT p95 (ms)',
  'time to response headers p50 (ms)',
  'time to response headers p95 (ms)',
  'provider processing time p50 (ms)',
  'chunk gap p50 (ms)',
  'output speed p50 (tokens/s)',
  'end-to-end p99 (s)',
  'availability (%)',
  `goodput, met every objective (%) ${NOTE_OBJECTIVES}`,
  'error rate, all (%)',
  'retries per request',
  'cost per completed answer (USD)',
]);

/**
 * Each workload split by provider: one column per workload and provider (two header lines), the
 * rows that tell providers apart. The same numbers as the main table where a workload has one provider.
 */
export function formatProviderScorecard(slices: readonly WorkloadScore[]): string {
  const body = rows(slices).filter(([label]) => PER_PROVIDER_ROWS.has(label) || label.startsWith('  error.type='));
  return table([slices.map((s) => s.workload), slices.map((s) => s.provider ?? '')], body, slices);
}

/** One objective as the table shows the quantity: `TTFT <= 640 ms`. In the order a request lives them. */
const OBJECTIVE_TEXT: ReadonlyArray<readonly [keyof Objectives, (value: number) => string]> = [
  ['timeToFirstToken', (v) => `TTFT <= ${ms(v)} ms`],
  ['maxChunkGap', (v) => `max chunk gap <= ${ms(v)} ms`],
  ['timePerOutputToken', (v) => `TPOT <= ${num(v * 1000, 1)} ms`],
  ['minOutputSpeed', (v) => `output speed >= ${v} tokens/s`],
  ['duration', (v) => `end-to-end <= ${v} s`],
];

/**
 * The table's footnotes: that per-hour figures are extrapolated from this short run, and the
 * objectives each class's goodput is judged against (the `slo` option the demo instruments with).
 */
export function formatNotes(scores: readonly WorkloadScore[], objectives: Readonly<Record<string, Objectives>>): string {
  const windows = scores.map((s) => `${s.workload} ${num(s.window, 1)} s`).join(', ');
  const width = Math.max(...scores.map((s) => s.workload.length));
  const judged = scores.map((s) => {
    const o = objectives[s.workload];
    const text = o === undefined ? 'no objectives: goodput not judged' : OBJECTIVE_TEXT.flatMap(([key, show]) => (o[key] === undefined ? [] : [show(o[key])])).join(', ');
    return `        ${s.workload.padEnd(width)}  ${text}`;
  });
  return [
    `  ${NOTE_PER_HOUR} extrapolated from a short run, not measured over an hour: successful requests / seconds since the`,
    `      class's first request (${windows}) x 3600. Expect it to move from run to run.`,
    `  ${NOTE_OBJECTIVES} share of requests that met every objective of their class at once; the objectives (\`slo\` in examples/demo/main.ts):`,
    ...judged,
  ].join('\n');
}

/**
 * The scorecard as plain JSON (what `--json FILE` writes): `workloads`, one object per workload
 * class; `byProvider`, provider -> workload -> the part of the workload that provider served;
 * `byModel`, provider -> model -> its rate-limit headroom, retry-after and timing; the same
 * numbers as the tables, unrounded; NaN (no data) becomes null.
 */
export function scorecardJson(card: Scorecard): {
  workloads: Record<string, unknown>;
  byProvider: Record<string, Record<string, unknown>>;
  byModel: Record<string, Record<string, unknown>>;
} {
  const plain = (value: unknown): unknown => {
    if (typeof value === 'number') return Number.isFinite(value) ? value : null;
    if (value instanceof Map) return plain(Object.fromEntries(value));
    if (Array.isArray(value)) return value.map(plain);
    if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
    return value;
  };
  const byProvider: Record<string, Record<string, unknown>> = {};
  for (const s of card.byProvider) (byProvider[s.provider!] ??= {})[s.workload] = plain(s);
  const byModel: Record<string, Record<string, unknown>> = {};
  for (const m of card.models) (byModel[m.provider] ??= {})[m.model] = plain(m);
  return { workloads: Object.fromEntries(card.workloads.map((s) => [s.workload, plain(s)])), byProvider, byModel };
}

/**
 * One line per workload naming the yardstick that matters for it (the product brief), with its
 * value, and with each provider's when more than one served the workload.
 */
export function formatYardsticks(card: Scorecard): string {
  const lines: string[] = [];
  const split = (s: WorkloadScore, show: (part: WorkloadScore) => string): string => {
    const parts = card.byProvider.filter((p) => p.workload === s.workload);
    return parts.length < 2 ? '' : ` (${parts.map((p) => `${p.provider} ${show(p)}`).join(', ')})`;
  };
  for (const s of card.workloads) {
    const rate429 = s.errorRates.get('429') ?? 0;
    if (s.workload === 'chat') {
      lines.push(`  chat   TTFT p95 ${ms(s.ttft.p95)} ms${split(s, (p) => `${ms(p.ttft.p95)} ms`)} (spread ${ms(s.ttft.p95 - s.ttft.p50)} ms): how fast the first token appears, and how consistently.`);
    } else if (s.workload === 'batch') {
      lines.push(`  batch  output speed p50 ${num(s.outputSpeedP50, 0)} tokens/s${split(s, (p) => num(p.outputSpeedP50, 0))}, ${thousands(s.completedPerHour)} completed/hour (extrapolated): sustained throughput, not latency.`);
    } else if (s.workload === 'agent') {
      lines.push(`  agent  end-to-end p99 ${num(s.endToEndP99, 2)} s, error rate ${pct(s.errorRate)}% (429s ${pct(rate429)}%), ${usd(s.costPerAnswer)} per answer${split(s, (p) => usd(p.costPerAnswer))}: its worst requests, its failures, its cost.`);
    }
  }
  lines.push(...formatHeadroomYardsticks(card.models));
  return lines.join('\n');
}
