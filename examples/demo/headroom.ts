/**
 * Rate-limit headroom through the run. A gauge holds only its last value, so the scorecard cannot
 * read the lowest headroom from the final collection: while the traffic runs, this samples the
 * `inferometer.ratelimit.remaining` and `inferometer.ratelimit.limit` gauges from the in-memory
 * reader (as a Prometheus scrape would, only more often) and keeps, per quota, the lowest
 * remaining / limit and when headroom first fell under 10%.
 */
import type { MetricData } from '@opentelemetry/sdk-metrics';
import { ATTR_PROVIDER_NAME, ATTR_RATELIMIT_RESOURCE, ATTR_REQUEST_MODEL, ATTR_SERVER_ADDRESS, METRIC_RATELIMIT_LIMIT, METRIC_RATELIMIT_REMAINING } from 'inferometer';
import { MetricView } from './metric-view.ts';

/** Headroom under this share of a quota is low: the threshold of the `InferometerRateLimitHeadroomLow` alert. */
export const LOW_HEADROOM = 0.1;
/** How often the gauges are sampled at time scale 1, ms (Prometheus scrapes the demo every 500 ms in `npm run test:e2e`). */
export const SAMPLE_INTERVAL_MS = 100;

/** One quota (provider, server, model, resource) over the run. Times in seconds since the traffic began. */
export interface QuotaLow {
  readonly provider: string;
  readonly server: string;
  readonly model: string;
  /** `inferometer.ratelimit.resource`: requests, tokens, input_tokens, output_tokens. */
  readonly resource: string;
  /** The largest limit the quota reported. */
  limit: number;
  /** The lowest remaining / limit sampled. */
  lowest: number;
  /** When it was first sampled at its lowest. */
  lowestAt: number;
  /** When it was first sampled under {@link LOW_HEADROOM}; NaN: never. */
  lowAt: number;
}

/**
 * Samples the headroom gauges every `intervalMs` from `start()` to `stop()`.
 * @example const watch = new HeadroomWatch(() => telemetry.collect(), Date.now() / 1000, 100); watch.start(); ...; await watch.stop();
 */
export class HeadroomWatch {
  readonly #collect: () => Promise<MetricData[]>;
  readonly #origin: number;
  readonly #intervalMs: number;
  readonly #quotas = new Map<string, QuotaLow>();
  #timer: NodeJS.Timeout | undefined;
  #sampling: Promise<void> = Promise.resolve();
  #stopped = false;

  /**
   * @param origin Unix seconds the times are counted from (when the traffic began)
   * @param intervalMs how often to sample (the time a low is known to)
   */
  constructor(collect: () => Promise<MetricData[]>, origin: number, intervalMs: number) {
    this.#collect = collect;
    this.#origin = origin;
    this.#intervalMs = intervalMs;
  }

  start(): void {
    const tick = (): void => {
      this.#sampling = this.#sample().finally(() => {
        if (!this.#stopped) this.#timer = setTimeout(tick, this.#intervalMs);
      });
    };
    tick();
  }

  /** Stops sampling, after one last sample. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#sampling;
    await this.#sample();
  }

  /** Every quota seen, by provider, model and resource. */
  lows(): QuotaLow[] {
    return [...this.#quotas.values()];
  }

  async #sample(): Promise<void> {
    const at = Date.now() / 1000 - this.#origin;
    const view = new MetricView(await this.#collect());
    const limits = new Map(view.values(METRIC_RATELIMIT_LIMIT).map((p) => [keyOf(p.attributes), p.value]));
    for (const { attributes, value: remaining } of view.values(METRIC_RATELIMIT_REMAINING)) {
      const key = keyOf(attributes);
      const limit = limits.get(key);
      if (limit === undefined || limit <= 0) continue;
      const headroom = remaining / limit;
      const quota = this.#quotas.get(key) ?? {
        provider: String(attributes[ATTR_PROVIDER_NAME]),
        server: String(attributes[ATTR_SERVER_ADDRESS]),
        model: String(attributes[ATTR_REQUEST_MODEL] ?? ''),
        resource: String(attributes[ATTR_RATELIMIT_RESOURCE]),
        limit,
        lowest: headroom,
        lowestAt: at,
        lowAt: Number.NaN,
      };
      this.#quotas.set(key, quota);
      quota.limit = Math.max(quota.limit, limit);
      if (headroom < quota.lowest) {
        quota.lowest = headroom;
        quota.lowestAt = at;
      }
      if (headroom < LOW_HEADROOM && Number.isNaN(quota.lowAt)) quota.lowAt = at;
    }
  }
}

function keyOf(attributes: Record<string, unknown>): string {
  return [ATTR_PROVIDER_NAME, ATTR_SERVER_ADDRESS, ATTR_REQUEST_MODEL, ATTR_RATELIMIT_RESOURCE].map((k) => String(attributes[k] ?? '')).join('\u0000');
}
