/**
 * inferometer's metrics under the names each backend gives them: the single list the
 * end-to-end tests check the dashboards and the exporters against.
 */
import {
  METRIC_ATTEMPTS,
  METRIC_COST,
  METRIC_MAX_CHUNK_GAP,
  METRIC_OPERATION_DURATION,
  METRIC_OUTPUT_SPEED,
  METRIC_PROVIDER_PROCESSING_TIME,
  METRIC_RATELIMIT_LIMIT,
  METRIC_RATELIMIT_REMAINING,
  METRIC_RATELIMIT_RESET,
  METRIC_REQUESTS,
  METRIC_REQUESTS_ACTIVE,
  METRIC_RETRY_AFTER,
  METRIC_SLO_REQUESTS,
  METRIC_TIME_PER_OUTPUT_CHUNK,
  METRIC_TIME_PER_OUTPUT_TOKEN,
  METRIC_TIME_TO_FIRST_CHUNK,
  METRIC_TIME_TO_FIRST_TOKEN,
  METRIC_TIME_TO_RESPONSE_HEADERS,
  METRIC_TOKEN_USAGE,
} from 'inferometer';

/** The instrument kind: `gauge` is an observable gauge (the last value observed at each collection). */
export type Kind = 'histogram' | 'counter' | 'updowncounter' | 'gauge';

/** Every metric inferometer records (its OpenTelemetry name) and its instrument kind. */
export const METRICS: ReadonlyMap<string, Kind> = new Map<string, Kind>([
  [METRIC_OPERATION_DURATION, 'histogram'],
  [METRIC_TOKEN_USAGE, 'histogram'],
  [METRIC_TIME_TO_FIRST_CHUNK, 'histogram'],
  [METRIC_TIME_PER_OUTPUT_CHUNK, 'histogram'],
  [METRIC_TIME_TO_FIRST_TOKEN, 'histogram'],
  [METRIC_TIME_PER_OUTPUT_TOKEN, 'histogram'],
  [METRIC_OUTPUT_SPEED, 'histogram'],
  [METRIC_MAX_CHUNK_GAP, 'histogram'],
  [METRIC_REQUESTS, 'counter'],
  [METRIC_REQUESTS_ACTIVE, 'updowncounter'],
  [METRIC_ATTEMPTS, 'counter'],
  [METRIC_COST, 'counter'],
  [METRIC_SLO_REQUESTS, 'counter'],
  [METRIC_TIME_TO_RESPONSE_HEADERS, 'histogram'],
  [METRIC_PROVIDER_PROCESSING_TIME, 'histogram'],
  [METRIC_RETRY_AFTER, 'histogram'],
  [METRIC_RATELIMIT_REMAINING, 'gauge'],
  [METRIC_RATELIMIT_LIMIT, 'gauge'],
  [METRIC_RATELIMIT_RESET, 'gauge'],
]);

/**
 * Metrics recorded per provider, server and model, without `workload.class`: a quota, and the
 * wait a provider asks for, are shared by every workload that uses the model. A dashboard cannot
 * filter them by class; it can only keep the models the selected classes use.
 */
export const WITHOUT_WORKLOAD: ReadonlySet<string> = new Set([METRIC_RETRY_AFTER, METRIC_RATELIMIT_REMAINING, METRIC_RATELIMIT_LIMIT, METRIC_RATELIMIT_RESET]);

/**
 * Metrics that exist only once a provider has said something in its response headers. The
 * simulated OpenAI API (examples/demo/provider-ratelimit.ts) sends its rate limits and
 * `openai-processing-ms` on every response, so an app that sends it requests always has those;
 * it asks for a wait (`retry-after-ms`) only on its 429s and 5xx, so `inferometer.retry_after`
 * exists only once one of those came: `happened` says whether one did, from the HTTP statuses
 * of the attempts.
 */
export const CONDITIONAL: ReadonlyMap<string, { readonly when: string; readonly happened: (statuses: ReadonlySet<number>) => boolean }> = new Map([
  [METRIC_RETRY_AFTER, { when: 'a response asked for a wait: a 429 or a 5xx', happened: (statuses: ReadonlySet<number>) => [...statuses].some((s) => s === 429 || s >= 500) }],
]);

/**
 * The name and `# TYPE` the OpenTelemetry JS Prometheus exporter (@opentelemetry/exporter-prometheus
 * 0.301) gives each metric: dots become underscores, monotonic counters get `_total`, and the
 * unit is NOT appended (no `_seconds`, no `_USD`): it goes to a `# UNIT` comment only.
 * Up-down counters and gauges are Prometheus gauges. Histograms are queried as NAME_bucket /
 * NAME_sum / NAME_count.
 */
export function prometheusName(otelName: string): { name: string; type: 'histogram' | 'counter' | 'gauge' } {
  const kind = METRICS.get(otelName);
  if (kind === undefined) throw new Error(`not an inferometer metric: ${otelName}`);
  const base = otelName.replace(/\./g, '_');
  if (kind === 'counter') return { name: `${base}_total`, type: 'counter' };
  if (kind === 'updowncounter' || kind === 'gauge') return { name: base, type: 'gauge' };
  return { name: base, type: 'histogram' };
}

/** Every series name a PromQL query may use: counters and gauges as is, histograms with their suffixes. */
export const PROMETHEUS_SERIES: ReadonlySet<string> = new Set(
  [...METRICS.keys()].flatMap((m) => {
    const { name, type } = prometheusName(m);
    return type === 'histogram' ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name];
  }),
);

/** The metric names a PromQL expression selects (identifiers followed by `{` or `[`, or bare). */
export function seriesNamesIn(expr: string): string[] {
  const names = new Set<string>();
  for (const m of expr.matchAll(/\b([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?=\{|\[)/g)) names.add(m[1]!);
  return [...names];
}
