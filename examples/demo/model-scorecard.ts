/**
 * The scorecard per provider and model: what a provider's rate limits and its own timing say,
 * whichever workload sent the requests (a quota is shared by every workload that uses the model).
 * Rate-limit headroom from the sampled gauges (headroom.ts), the rest from the final collection.
 */
import {
  ATTR_HTTP_STATUS_CODE,
  ATTR_PROVIDER_NAME,
  ATTR_REQUEST_MODEL,
  METRIC_ATTEMPTS,
  METRIC_PROVIDER_PROCESSING_TIME,
  METRIC_REQUESTS,
  METRIC_RETRY_AFTER,
  METRIC_TIME_TO_RESPONSE_HEADERS,
} from 'inferometer';
import { LOW_HEADROOM, type QuotaLow } from './headroom.ts';
import { type Row, ms, num, pct, table } from './format.ts';
import { type MetricView, histogramQuantile } from './metric-view.ts';

/** One quota of a model over the run: its limit, its lowest remaining / limit and when. Times in seconds since the traffic began. */
export interface Headroom {
  readonly limit: number;
  readonly lowest: number;
  readonly lowestAt: number;
  /** When it first fell under 10%; NaN: never. */
  readonly lowAt: number;
}

/** What the metrics say about one model of one provider. Times in seconds (since the traffic began, for `...At`). */
export interface ModelScore {
  readonly provider: string;
  readonly model: string;
  /** `inferometer.time_to_response_headers` over every workload that used the model. */
  readonly headers: { readonly p50: number; readonly p95: number };
  /** `inferometer.provider.processing_time`: the provider's own figure; NaN where it reports none. */
  readonly processing: { readonly p50: number; readonly p95: number };
  /** `inferometer.retry_after`: the waits the provider asked for; NaN when it asked for none. */
  readonly retryAfterP95: number;
  /** Attempts answered 429. */
  readonly rateLimited: number;
  /** Per `inferometer.ratelimit.resource`; empty when the provider sends no rate-limit headers. */
  readonly headroom: Readonly<Record<string, Headroom>>;
  /** When a quota of the model first fell under 10%; NaN: never. */
  readonly lowAt: number;
  /** When the first attempt was answered 429 (the start of its `inferometer.attempts` series); NaN: none was. */
  readonly first429At: number;
}

const PROVIDER_ORDER = ['openai', 'anthropic', 'gcp.gemini'];
const RESOURCE_ORDER = ['requests', 'tokens', 'input_tokens', 'output_tokens'];
const rank = (order: readonly string[], name: string) => (order.includes(name) ? order.indexOf(name) : order.length);

/**
 * One score per provider and model seen in `inferometer.requests`.
 * @param quotas the headroom sampled through the run
 * @param origin Unix seconds the traffic began
 */
export function computeModelScores(view: MetricView, quotas: readonly QuotaLow[], origin: number): ModelScore[] {
  const pairs = view.combinations(METRIC_REQUESTS, [ATTR_PROVIDER_NAME, ATTR_REQUEST_MODEL]);
  pairs.sort((a, b) => rank(PROVIDER_ORDER, a[ATTR_PROVIDER_NAME]!) - rank(PROVIDER_ORDER, b[ATTR_PROVIDER_NAME]!) || a[ATTR_REQUEST_MODEL]!.localeCompare(b[ATTR_REQUEST_MODEL]!));
  return pairs.map((pair) => {
    const provider = pair[ATTR_PROVIDER_NAME]!;
    const model = pair[ATTR_REQUEST_MODEL]!;
    const only = { [ATTR_PROVIDER_NAME]: provider, [ATTR_REQUEST_MODEL]: model };
    const quantile = (metric: string, q: number) => histogramQuantile(q, view.histogram(metric, only));
    const own = quotas.filter((q) => q.provider === provider && q.model === model).sort((a, b) => rank(RESOURCE_ORDER, a.resource) - rank(RESOURCE_ORDER, b.resource));
    const headroom = Object.fromEntries(own.map((q) => [q.resource, { limit: q.limit, lowest: q.lowest, lowestAt: q.lowestAt, lowAt: q.lowAt }]));
    const rateLimitedOnly = { ...only, [ATTR_HTTP_STATUS_CODE]: 429 };
    const first429 = view.firstSeen(METRIC_ATTEMPTS, rateLimitedOnly);
    const lowAts = own.map((q) => q.lowAt).filter((t) => !Number.isNaN(t));
    return {
      provider,
      model,
      headers: { p50: quantile(METRIC_TIME_TO_RESPONSE_HEADERS, 0.5), p95: quantile(METRIC_TIME_TO_RESPONSE_HEADERS, 0.95) },
      processing: { p50: quantile(METRIC_PROVIDER_PROCESSING_TIME, 0.5), p95: quantile(METRIC_PROVIDER_PROCESSING_TIME, 0.95) },
      retryAfterP95: quantile(METRIC_RETRY_AFTER, 0.95),
      rateLimited: view.sum(METRIC_ATTEMPTS, rateLimitedOnly),
      headroom,
      lowAt: lowAts.length === 0 ? Number.NaN : Math.min(...lowAts),
      first429At: first429 === undefined ? Number.NaN : first429 - origin,
    };
  });
}

const NOTE_HEADROOM = '[3]';
const seconds = (value: number): string => num(value, 1);
const RESOURCE_LABEL: Readonly<Record<string, string>> = { requests: 'requests', tokens: 'tokens', input_tokens: 'input tokens', output_tokens: 'output tokens' };

function rows(scores: readonly ModelScore[]): Array<Row<ModelScore>> {
  const resources = [...new Set(scores.flatMap((s) => Object.keys(s.headroom)))].sort((a, b) => rank(RESOURCE_ORDER, a) - rank(RESOURCE_ORDER, b));
  return [
    ...resources.map((r, i): Row<ModelScore> => [`lowest headroom, ${RESOURCE_LABEL[r] ?? r} (%)${i === 0 ? ` ${NOTE_HEADROOM}` : ''}`, (s) => pct(s.headroom[r]?.lowest ?? Number.NaN)]),
    [`headroom first under ${LOW_HEADROOM * 100}% (s into the run)`, (s) => seconds(s.lowAt)],
    ['first 429 (s into the run)', (s) => seconds(s.first429At)],
    [`  after headroom under ${LOW_HEADROOM * 100}% (s)`, (s) => (Number.isFinite(s.first429At - s.lowAt) ? `${s.first429At >= s.lowAt ? '+' : ''}${num(s.first429At - s.lowAt, 2)}` : '-')],
    ['attempts answered 429', (s) => String(s.rateLimited)],
    ['retry-after asked, p95 (ms)', (s) => ms(s.retryAfterP95)],
    ['time to response headers p50 (ms)', (s) => ms(s.headers.p50)],
    ['time to response headers p95 (ms)', (s) => ms(s.headers.p95)],
    ['provider processing time p50 (ms)', (s) => ms(s.processing.p50)],
    ['provider processing time p95 (ms)', (s) => ms(s.processing.p95)],
  ];
}

/** The per provider and model table: one column per model (provider and model as two header lines). */
export function formatModelScorecard(scores: readonly ModelScore[]): string {
  return table([scores.map((s) => s.provider), scores.map((s) => s.model)], rows(scores), scores);
}

/** The footnote of the headroom rows. @param sampleMs how often the gauges were sampled */
export function formatModelNotes(sampleMs: number): string {
  return [
    `  ${NOTE_HEADROOM} the lowest inferometer.ratelimit.remaining / inferometer.ratelimit.limit of each quota, sampled every ${sampleMs} ms`,
    `      through the run (a gauge holds only its last value; when it fell is known to a sample); - where the provider sends`,
    `      no rate-limit headers (gcp.gemini) or no 429 came.`,
  ].join('\n');
}

/** One line per model whose headroom ran low: when, and when the first 429 came. */
export function formatHeadroomYardsticks(scores: readonly ModelScore[]): string[] {
  return scores
    .filter((s) => Number.isFinite(s.lowAt))
    .map((s) => {
      const after = Number.isFinite(s.first429At) ? `, the first 429 ${num(Math.abs(s.first429At - s.lowAt), 1)} s ${s.first429At >= s.lowAt ? 'later' : 'earlier'}` : ', no 429';
      return `  quota  ${s.model} (${s.provider}): headroom under ${LOW_HEADROOM * 100}% at ${seconds(s.lowAt)} s${after}: watch the headroom, not the 429s.`;
    });
}
