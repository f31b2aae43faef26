import type { Attributes, Counter, Histogram, MeterProvider, UpDownCounter } from '@opentelemetry/api';
import { type ChunkGapSink, chunkGapStoreOf } from './chunk-gap-store.js';
import { QuotaStore } from '../ratelimit/quota-store.js';
import * as sc from '../semconv.js';
import { HISTOGRAMS, type HistogramSpec } from './histograms.js';

/** Every instrument inferometer records to, created once per MeterProvider. */
export interface Instruments {
  readonly duration: Histogram;
  readonly tokenUsage: Histogram;
  readonly timeToFirstChunk: Histogram;
  /**
   * The per-chunk gaps' histogram; undefined where the provider's readers take the gaps from a
   * {@link ChunkGapSink} instead (set up by `inferometer/sdk`).
   */
  readonly timePerOutputChunk: Histogram | undefined;
  readonly chunkGaps: ChunkGapSink | undefined;
  readonly timeToFirstToken: Histogram;
  readonly timePerOutputToken: Histogram;
  readonly outputSpeed: Histogram;
  readonly requests: Counter;
  readonly active: UpDownCounter;
  readonly attempts: Counter;
  readonly cost: Counter;
  readonly maxChunkGap: Histogram;
  readonly sloRequests: Counter;
  readonly timeToResponseHeaders: Histogram;
  readonly providerProcessingTime: Histogram;
  readonly retryAfter: Histogram;
  /** The last quota readings, observed by the three rate-limit gauges when the SDK collects. */
  readonly quotas: QuotaStore;
}

const byProvider = new WeakMap<MeterProvider, Instruments>();

/** The instruments of `provider`, created on first use with units, descriptions and bucket advice. */
export function instrumentsFor(provider: MeterProvider, version: string): Instruments {
  let found = byProvider.get(provider);
  if (found === undefined) {
    found = create(provider, version);
    byProvider.set(provider, found);
  }
  return found;
}

function create(provider: MeterProvider, version: string): Instruments {
  const meter = provider.getMeter('inferometer', version);
  const quotas = new QuotaStore();
  const chunkGaps = chunkGapStoreOf(provider);
  observeQuotas(meter, quotas);
  const histogram = (spec: HistogramSpec) =>
    meter.createHistogram(spec.name, {
      unit: spec.unit,
      description: spec.description,
      advice: { explicitBucketBoundaries: [...spec.buckets] },
    });
  return {
    duration: histogram(HISTOGRAMS.duration),
    tokenUsage: histogram(HISTOGRAMS.tokenUsage),
    timeToFirstChunk: histogram(HISTOGRAMS.timeToFirstChunk),
    // Not made where a store takes the gaps: an instrument with no data could still be exported empty.
    timePerOutputChunk: chunkGaps === undefined ? histogram(HISTOGRAMS.timePerOutputChunk) : undefined,
    chunkGaps,
    timeToFirstToken: histogram(HISTOGRAMS.timeToFirstToken),
    timePerOutputToken: histogram(HISTOGRAMS.timePerOutputToken),
    outputSpeed: histogram(HISTOGRAMS.outputSpeed),
    maxChunkGap: histogram(HISTOGRAMS.maxChunkGap),
    timeToResponseHeaders: histogram(HISTOGRAMS.timeToResponseHeaders),
    providerProcessingTime: histogram(HISTOGRAMS.providerProcessingTime),
    retryAfter: histogram(HISTOGRAMS.retryAfter),
    quotas,
    requests: meter.createCounter(sc.METRIC_REQUESTS, {
      unit: '{request}',
      description: 'Finished requests by inferometer.outcome (success, error, cancelled); retries are not counted again.',
    }),
    active: meter.createUpDownCounter(sc.METRIC_REQUESTS_ACTIVE, {
      unit: '{request}',
      description: 'Requests under way: sent and not yet finished.',
    }),
    attempts: meter.createCounter(sc.METRIC_ATTEMPTS, {
      unit: '{attempt}',
      description: 'HTTP attempts, retries included, by http.response.status_code or transport error.type.',
    }),
    cost: meter.createCounter(sc.METRIC_COST, {
      unit: 'USD',
      description: 'Spend computed from token usage and the price table, failed and cancelled requests included.',
    }),
    sloRequests: meter.createCounter(sc.METRIC_SLO_REQUESTS, {
      unit: '{request}',
      description: 'Finished requests of workload classes with objectives, by inferometer.slo.outcome (met, missed) and inferometer.slo.missed.',
    }),
  };
}

/**
 * The headroom gauges: remaining and limit per quota, and seconds to its reset, from the last
 * response that reported them, never older than the quota's window (see QuotaStore). Keyed by
 * provider, server and model, not by workload class: a quota is shared.
 */
function observeQuotas(meter: ReturnType<MeterProvider['getMeter']>, quotas: QuotaStore): void {
  const remaining = meter.createObservableGauge(sc.METRIC_RATELIMIT_REMAINING, {
    unit: '{1}',
    description: 'What is left of a rate-limit quota (requests or tokens) in its current window, as the provider last reported it.',
  });
  const limit = meter.createObservableGauge(sc.METRIC_RATELIMIT_LIMIT, {
    unit: '{1}',
    description: "A rate-limit quota's size per window (requests or tokens), as the provider last reported it.",
  });
  const reset = meter.createObservableGauge(sc.METRIC_RATELIMIT_RESET, {
    unit: 's',
    description: "Seconds until a rate-limit quota's window resets, as the provider last reported it.",
  });
  meter.addBatchObservableCallback(
    (result) => {
      for (const { entry: q, remaining: left, limit: size, resetSeconds } of quotas.observe(Date.now())) {
        const attrs: Attributes = {
          [sc.ATTR_PROVIDER_NAME]: q.provider,
          [sc.ATTR_SERVER_ADDRESS]: q.server,
          [sc.ATTR_RATELIMIT_RESOURCE]: q.resource,
        };
        if (q.model !== undefined) attrs[sc.ATTR_REQUEST_MODEL] = q.model;
        if (left !== undefined) result.observe(remaining, left, attrs);
        if (size !== undefined) result.observe(limit, size, attrs);
        if (resetSeconds !== undefined) result.observe(reset, resetSeconds, attrs);
      }
    },
    [remaining, limit, reset],
  );
}
