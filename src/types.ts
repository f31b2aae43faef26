import type { MeterProvider } from '@opentelemetry/api';

/** What a workload function is told about a request, before it is sent. No prompt text. */
export interface RequestDescription {
  /** `gen_ai.operation.name`: `chat` (chat completions and Responses), `text_completion` or `embeddings`. */
  readonly operation: string;
  /** The model the request asks for (`gen_ai.request.model`), or `undefined` if the body names none. */
  readonly model: string | undefined;
  /** Whether the request asks for a streamed (SSE) response. */
  readonly stream: boolean;
  /** The full request URL. */
  readonly url: string;
}

/**
 * The workload class of a request: a fixed name, or a function that derives it from the request.
 * A function that throws, or returns something that is not a valid name, records `_OTHER` and
 * logs one `diag` warning.
 *
 * @example 'chat'
 * @example (req) => (req.stream ? 'chat' : 'batch')
 */
export type WorkloadOption = string | ((request: RequestDescription) => string);

/**
 * Prices in USD per million tokens.
 * @example { input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75 }
 */
export interface ModelPrice {
  /** USD per million input (prompt) tokens. */
  readonly input: number;
  /** USD per million output (completion) tokens, reasoning tokens included. */
  readonly output: number;
  /** USD per million input tokens read from the provider's prompt cache. @default the `input` price */
  readonly cachedInput?: number;
  /** USD per million input tokens written to the provider's prompt cache (Anthropic's 5-minute writes). @default the `input` price */
  readonly cacheWrite?: number;
  /**
   * The prices of a request whose input exceeds `above` tokens (Gemini's long-prompt tier): every
   * token of such a request is priced at these.
   * @example { above: 200_000, input: 2.5, output: 15, cachedInput: 0.25 }
   */
  readonly longContext?: {
    readonly above: number;
    readonly input: number;
    readonly output: number;
    readonly cachedInput?: number;
    readonly cacheWrite?: number;
  };
}

/**
 * Model name -> price. Matched on the response model, then on its family: without a snapshot
 * date or `-latest` (`claude-sonnet-4-5-20250929` -> `claude-sonnet-4-5`), a `models/` path or a
 * Gemini version (`models/gemini-2.0-flash-001` -> `gemini-2.0-flash`).
 */
export type PriceTable = Readonly<Record<string, ModelPrice>>;

/** Options of {@link meteredFetch}; {@link instrument} takes the same. */
export interface MeterOptions {
  /**
   * The workload class of every request that names none itself (by the `x-inferometer-workload`
   * header or {@link withWorkload}). Names are 1-64 characters of `A-Z a-z 0-9 . _ - : /`.
   * @default 'default'
   * @example { workload: 'chat' }
   * @example { workload: (req) => (req.model?.startsWith('o') ? 'reasoning' : 'chat') }
   */
  readonly workload?: WorkloadOption;
  /**
   * The OpenTelemetry MeterProvider to record with.
   * @default the global MeterProvider (`metrics.getMeterProvider()`), which is a no-op until the app registers an SDK
   */
  readonly meterProvider?: MeterProvider;
  /**
   * Prices that add to or override the built-in tables of OpenAI, Anthropic and Gemini models (see `DEFAULT_PRICES`), for any provider.
   * @default {}
   * @example { 'llama3.3-70b-instruct': { input: 0.65, output: 0.65 } }
   */
  readonly prices?: PriceTable;
  /**
   * Ask streamed chat and legacy completions for their token usage
   * (`stream_options.include_usage`) when the app did not, and hide the extra usage-only chunk
   * from the app so it sees exactly the chunks it would see without inferometer. A provider that
   * rejects the option gets the request again without it, and is not asked again.
   * @default true
   */
  readonly injectStreamUsage?: boolean;
  /**
   * How many distinct workload classes are recorded; further names are recorded as `_OTHER`
   * (one `diag` warning), which keeps the number of time series bounded.
   * @default 50
   */
  readonly maxWorkloadClasses?: number;
  /**
   * `gen_ai.provider.name` for hosts inferometer does not recognise. It knows OpenAI, Azure
   * OpenAI, Anthropic, Gemini, Vertex AI, Bedrock and the common OpenAI-compatible clouds by their
   * host names; any other host (a vLLM or Ollama server, a proxy) is named after the API it speaks
   * (`openai`, `anthropic`, `gcp.gemini`) unless this says otherwise.
   * @default the protocol's provider
   * @example { provider: 'vllm' }
   */
  readonly provider?: string;
  /**
   * Objectives per workload class, for goodput: every finished request of a class listed here is
   * judged and counted in `inferometer.slo.requests` as met or missed (with the objective it
   * missed first). Classes not listed record no SLO metric. See `SLO_PRESETS` for starting points.
   * @default {}
   * @example { chat: { timeToFirstToken: 0.8, timePerOutputToken: 0.05 }, batch: { duration: 120, minOutputSpeed: 40 } }
   */
  readonly slo?: Readonly<Record<string, Objectives>>;
  /**
   * See a retry that a framework makes above fetch (the Vercel AI SDK's `maxRetries`, LangChain's
   * AsyncCaller) as an attempt of the request it retries: after an attempt fails the way
   * frameworks retry (429, 408, 409, 5xx, a connection error), its request stays open for a
   * retry window (the provider's `retry-after` plus 3 s, else 5 s, doubling per attempt, at
   * most 65 s); the same request sent again within it continues it, timed from the first
   * attempt. If none comes, the request is recorded as it failed, when it failed, once the
   * window has passed. Set `false` where nothing above fetch retries (`@google/genai` without
   * `retryOptions`), to record such failures at once. Inside `instrument()` the SDK's own retry
   * scope is used instead.
   * @default true
   */
  readonly linkRetries?: boolean;
  /**
   * The fetch to send requests with (for {@link meteredFetch}; {@link instrument} uses the client's own).
   * @default globalThis.fetch
   */
  readonly fetch?: typeof globalThis.fetch;
}

/** Options of {@link instrument}. */
export type InstrumentOptions = Omit<MeterOptions, 'fetch' | 'linkRetries'>;

/**
 * Service level objectives of one workload class. Every objective is optional; a request meets
 * the class's objectives when it succeeded and meets each one that applies to it (objectives on
 * streamed quantities do not apply to non-streamed requests).
 */
export interface Objectives {
  /** Seconds from sending to the first output token, at most. @example 0.8 */
  readonly timeToFirstToken?: number;
  /** Seconds per output token after the first, at most: (last - first output) / (tokens - 1). @example 0.05 */
  readonly timePerOutputToken?: number;
  /** Seconds from sending to the last byte, at most. @example 120 */
  readonly duration?: number;
  /** Seconds of the largest gap between two output chunks (a stall), at most. @example 2 */
  readonly maxChunkGap?: number;
  /** Output tokens per second between the first and last output, at least. @example 40 */
  readonly minOutputSpeed?: number;
}
