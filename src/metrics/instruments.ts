import type { Counter, Histogram, MeterProvider, UpDownCounter } from '@opentelemetry/api';
import * as sc from '../semconv.js';
import { HISTOGRAMS, type HistogramSpec } from './histograms.js';

/** Every instrument inferometer records to, created once per MeterProvider. */
export interface Instruments {
  readonly duration: Histogram;
  readonly tokenUsage: Histogram;
  readonly timeToFirstChunk: Histogram;
  readonly timePerOutputChunk: Histogram;
  readonly timeToFirstToken: Histogram;
  readonly timePerOutputToken: Histogram;
  readonly outputSpeed: Histogram;
  readonly requests: Counter;
  readonly active: UpDownCounter;
  readonly attempts: Counter;
  readonly cost: Counter;
  readonly maxChunkGap: Histogram;
  readonly sloRequests: Counter;
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
    timePerOutputChunk: histogram(HISTOGRAMS.timePerOutputChunk),
    timeToFirstToken: histogram(HISTOGRAMS.timeToFirstToken),
    timePerOutputToken: histogram(HISTOGRAMS.timePerOutputToken),
    outputSpeed: histogram(HISTOGRAMS.outputSpeed),
    maxChunkGap: histogram(HISTOGRAMS.maxChunkGap),
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
