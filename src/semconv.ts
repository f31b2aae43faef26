/**
 * Every metric and attribute name inferometer emits, in one place.
 *
 * `gen_ai.*`, `server.*`, `http.*` and `error.type` come from the OpenTelemetry
 * semantic conventions (GenAI metrics, status: development); `inferometer.*` and
 * `workload.class` are ours ("individual systems may include additional
 * system-specific attributes"). Dashboards depend on these strings: changing one
 * is a breaking change and goes in the CHANGELOG.
 */

// Metrics defined by the GenAI semantic conventions.
export const METRIC_OPERATION_DURATION = 'gen_ai.client.operation.duration' as const;
export const METRIC_TOKEN_USAGE = 'gen_ai.client.token.usage' as const;
export const METRIC_TIME_TO_FIRST_CHUNK = 'gen_ai.client.operation.time_to_first_chunk' as const;
export const METRIC_TIME_PER_OUTPUT_CHUNK = 'gen_ai.client.operation.time_per_output_chunk' as const;

// Ours.
export const METRIC_TIME_TO_FIRST_TOKEN = 'inferometer.time_to_first_token' as const;
export const METRIC_TIME_PER_OUTPUT_TOKEN = 'inferometer.time_per_output_token' as const;
export const METRIC_OUTPUT_SPEED = 'inferometer.output_speed' as const;
export const METRIC_REQUESTS = 'inferometer.requests' as const;
export const METRIC_REQUESTS_ACTIVE = 'inferometer.requests.active' as const;
export const METRIC_ATTEMPTS = 'inferometer.attempts' as const;
export const METRIC_COST = 'inferometer.cost' as const;
export const METRIC_MAX_CHUNK_GAP = 'inferometer.max_chunk_gap' as const;
export const METRIC_SLO_REQUESTS = 'inferometer.slo.requests' as const;
export const METRIC_TIME_TO_RESPONSE_HEADERS = 'inferometer.time_to_response_headers' as const;
export const METRIC_PROVIDER_PROCESSING_TIME = 'inferometer.provider.processing_time' as const;
export const METRIC_RETRY_AFTER = 'inferometer.retry_after' as const;
export const METRIC_RATELIMIT_REMAINING = 'inferometer.ratelimit.remaining' as const;
export const METRIC_RATELIMIT_LIMIT = 'inferometer.ratelimit.limit' as const;
export const METRIC_RATELIMIT_RESET = 'inferometer.ratelimit.reset' as const;

// Attributes from the semantic conventions.
export const ATTR_OPERATION_NAME = 'gen_ai.operation.name' as const;
export const ATTR_PROVIDER_NAME = 'gen_ai.provider.name' as const;
export const ATTR_REQUEST_MODEL = 'gen_ai.request.model' as const;
export const ATTR_RESPONSE_MODEL = 'gen_ai.response.model' as const;
export const ATTR_TOKEN_TYPE = 'gen_ai.token.type' as const;
export const ATTR_SERVER_ADDRESS = 'server.address' as const;
export const ATTR_SERVER_PORT = 'server.port' as const;
export const ATTR_ERROR_TYPE = 'error.type' as const;
export const ATTR_HTTP_STATUS_CODE = 'http.response.status_code' as const;

// Ours.
export const ATTR_WORKLOAD_CLASS = 'workload.class' as const;
export const ATTR_OUTCOME = 'inferometer.outcome' as const;
/** `met` or `missed`, on `inferometer.slo.requests`. */
export const ATTR_SLO_OUTCOME = 'inferometer.slo.outcome' as const;
/** What a missed request missed first: an objective (`time_to_first_token`, …), `error` or `cancelled`. */
export const ATTR_SLO_MISSED = 'inferometer.slo.missed' as const;
/** The quota a rate-limit gauge describes: `requests`, `tokens`, `input_tokens`, `output_tokens`. */
export const ATTR_RATELIMIT_RESOURCE = 'inferometer.ratelimit.resource' as const;
/** `true` on token and cost records estimated from the chunks seen, because no usage arrived. */
export const ATTR_ESTIMATED = 'inferometer.estimated' as const;

/** The fallback value for any bounded attribute whose value is unknown or over its cap. */
export const OTHER = '_OTHER' as const;

export const OPERATION_CHAT = 'chat' as const;
export const OPERATION_TEXT_COMPLETION = 'text_completion' as const;
export const OPERATION_EMBEDDINGS = 'embeddings' as const;
export const OPERATION_GENERATE_CONTENT = 'generate_content' as const;

export const TOKEN_TYPE_INPUT = 'input' as const;
export const TOKEN_TYPE_OUTPUT = 'output' as const;

/** `error.type` values inferometer sets itself (beside HTTP status codes and provider error codes). */
export const ERROR_TIMEOUT = 'timeout' as const;
export const ERROR_CONNECTION = 'connection_error' as const;
export const ERROR_STREAM_INTERRUPTED = 'stream_interrupted' as const;
export const ERROR_STREAM = 'stream_error' as const;
/** A streamed request answered with a body that holds no SSE event (JSON, text, HTML): the app's stream yielded nothing. */
export const ERROR_NOT_EVENT_STREAM = 'not_event_stream' as const;

/** Explicit bucket boundaries (s) the conventions give for every GenAI duration histogram. */
export const DURATION_BUCKETS: readonly number[] = [
  0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];

/** Explicit bucket boundaries the conventions give for `gen_ai.client.token.usage`. */
export const TOKEN_BUCKETS: readonly number[] = [
  1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
];

/** Boundaries for `inferometer.time_per_output_token` (s): finer at the bottom, where TPOT lives. */
export const TPOT_BUCKETS: readonly number[] = [
  0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1,
];

/** Boundaries for `inferometer.output_speed` ({token}/s). */
export const SPEED_BUCKETS: readonly number[] = [
  1, 2, 5, 10, 20, 30, 40, 50, 60, 80, 100, 125, 150, 200, 300, 500, 1000, 2000,
];

/** The request header that names the workload class of one call; removed before the request leaves. */
export const WORKLOAD_HEADER = 'x-inferometer-workload' as const;
