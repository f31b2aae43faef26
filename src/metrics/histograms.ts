import * as sc from '../semconv.js';

/** A histogram inferometer records: its name, unit, meaning and explicit bucket boundaries. */
export interface HistogramSpec {
  readonly name: string;
  readonly unit: string;
  readonly description: string;
  readonly buckets: readonly number[];
}

const seconds = (name: string, description: string, buckets = sc.DURATION_BUCKETS): HistogramSpec => ({ name, unit: 's', description, buckets });

/** Every histogram, in one place: the instruments and the SDK views are both made from it. */
export const HISTOGRAMS = {
  duration: seconds(sc.METRIC_OPERATION_DURATION, 'GenAI operation duration: request handed to the network to the last byte of the response.'),
  tokenUsage: {
    name: sc.METRIC_TOKEN_USAGE,
    unit: '{token}',
    description: 'Number of input and output tokens used, as billed by the provider.',
    buckets: sc.TOKEN_BUCKETS,
  },
  timeToFirstChunk: seconds(sc.METRIC_TIME_TO_FIRST_CHUNK, 'Time to the first streamed event of any kind (also an empty role-only chunk).'),
  timePerOutputChunk: seconds(sc.METRIC_TIME_PER_OUTPUT_CHUNK, 'Time between consecutive streamed output chunks, one record per chunk after the first.'),
  timeToFirstToken: seconds(sc.METRIC_TIME_TO_FIRST_TOKEN, 'Time to the first streamed event that carries generated output (text, refusal, tool-call arguments, reasoning).'),
  timePerOutputToken: seconds(sc.METRIC_TIME_PER_OUTPUT_TOKEN, '(last output - first output) / (output tokens - 1), one record per streamed request.', sc.TPOT_BUCKETS),
  outputSpeed: {
    name: sc.METRIC_OUTPUT_SPEED,
    unit: '{token}/s',
    description: 'Output tokens / (last output - first output), one record per streamed request.',
    buckets: sc.SPEED_BUCKETS,
  },
  maxChunkGap: seconds(sc.METRIC_MAX_CHUNK_GAP, 'The largest gap between two output chunks of a streamed request (its worst stall), one record per request.'),
  timeToResponseHeaders: seconds(sc.METRIC_TIME_TO_RESPONSE_HEADERS, 'Request handed to the network (first attempt) to the response headers of the last attempt: the provider answering, before any output (time to first token minus this is prefill and the first token).'),
  providerProcessingTime: seconds(sc.METRIC_PROVIDER_PROCESSING_TIME, "The provider's own figure of its processing time, from its response headers (OpenAI's openai-processing-ms): the time its API spent on the request before answering, as it measures it."),
  retryAfter: seconds(sc.METRIC_RETRY_AFTER, 'How long a provider asked to wait before retrying (retry-after-ms, retry-after), one record per response that asks.'),
} as const satisfies Record<string, HistogramSpec>;
