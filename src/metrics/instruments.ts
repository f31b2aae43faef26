import type { Counter, Histogram, MeterProvider, UpDownCounter } from '@opentelemetry/api';
import * as sc from '../semconv.js';

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
  const seconds = (name: string, description: string, buckets = sc.DURATION_BUCKETS) =>
    meter.createHistogram(name, {
      unit: 's',
      description,
      advice: { explicitBucketBoundaries: [...buckets] },
    });
  return {
    duration: seconds(sc.METRIC_OPERATION_DURATION, 'GenAI operation duration: request handed to the network to the last byte of the response.'),
    tokenUsage: meter.createHistogram(sc.METRIC_TOKEN_USAGE, {
      unit: '{token}',
      description: 'Number of input and output tokens used, as billed by the provider.',
      advice: { explicitBucketBoundaries: [...sc.TOKEN_BUCKETS] },
    }),
    timeToFirstChunk: seconds(sc.METRIC_TIME_TO_FIRST_CHUNK, 'Time to the first streamed event of any kind (also an empty role-only chunk).'),
    timePerOutputChunk: seconds(sc.METRIC_TIME_PER_OUTPUT_CHUNK, 'Time between consecutive streamed output chunks, one record per chunk after the first.'),
    timeToFirstToken: seconds(sc.METRIC_TIME_TO_FIRST_TOKEN, 'Time to the first streamed event that carries generated output (text, refusal, tool-call arguments, reasoning).'),
    timePerOutputToken: seconds(sc.METRIC_TIME_PER_OUTPUT_TOKEN, '(last output - first output) / (output tokens - 1), one record per streamed request.', sc.TPOT_BUCKETS),
    outputSpeed: meter.createHistogram(sc.METRIC_OUTPUT_SPEED, {
      unit: '{token}/s',
      description: 'Output tokens / (last output - first output), one record per streamed request.',
      advice: { explicitBucketBoundaries: [...sc.SPEED_BUCKETS] },
    }),
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
    maxChunkGap: seconds(sc.METRIC_MAX_CHUNK_GAP, 'The largest gap between two output chunks of a streamed request (its worst stall), one record per request.'),
    sloRequests: meter.createCounter(sc.METRIC_SLO_REQUESTS, {
      unit: '{request}',
      description: 'Finished requests of workload classes with objectives, by inferometer.slo.outcome (met, missed) and inferometer.slo.missed.',
    }),
  };
}
