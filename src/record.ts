import type { Attributes } from '@opentelemetry/api';
import type { GapHistogram } from './stream/gap-histogram.js';
import type { Usage } from './usage.js';

/** Where a finished record goes (the metric recorder). */
export interface FinishListener {
  requestFinished(record: RequestRecord): void;
}

/** How a request ended, from the app's point of view. */
export type Outcome = 'success' | 'error' | 'cancelled';

/**
 * The timing record of one logical request (all its attempts): filled in by the fetch wrapper and
 * the stream readers as bytes arrive, ended exactly once by {@link RequestRecord.finish}, then read
 * by the metric recorder. Times are `performance.now()` milliseconds; NaN means "did not happen".
 * It holds no OpenTelemetry object and no prompt or completion text.
 */
export class RequestRecord {
  /** Attributes known before sending (operation, provider, request model, server, workload). */
  readonly attributes: Attributes;
  /** Whether the response is an SSE stream (known for sure once its headers arrive). */
  streaming: boolean;
  /** When the first attempt was handed to fetch. */
  readonly start: number;
  /** The first SSE data event (any event, also an empty role-only chunk). */
  firstChunkAt = Number.NaN;
  /** The first event that carries generated output. */
  firstOutputAt = Number.NaN;
  lastOutputAt = Number.NaN;
  /** Output-carrying events seen, the first one included. */
  outputChunks = 0;
  /** Gaps between consecutive output-carrying events; undefined until the second one. */
  gaps: GapHistogram | undefined = undefined;
  /** HTTP attempts made so far (the first one included). */
  attempts = 0;
  /** The response headers of the latest attempt arrived. */
  headersAt = Number.NaN;
  /** The provider's own processing time (ms), from its response headers, where it reports one. */
  providerProcessingMs: number | undefined = undefined;
  /** The last byte of the response body, or the moment the request failed or was cancelled. */
  end = Number.NaN;
  outcome: Outcome | undefined = undefined;
  errorType: string | undefined = undefined;
  responseModel: string | undefined = undefined;
  usage: Usage | undefined = undefined;
  /** Input tokens guessed from the prompt, used only when no usage arrives. */
  estimatedInputTokens: number | undefined = undefined;

  readonly #listener: FinishListener;

  constructor(
    attributes: Attributes,
    streaming: boolean,
    start: number,
    listener: FinishListener,
  ) {
    this.attributes = attributes;
    this.streaming = streaming;
    this.start = start;
    this.#listener = listener;
  }

  get finished(): boolean {
    return this.outcome !== undefined;
  }

  /**
   * Ends the request; every later call is ignored, so completion, break, abort, error and garbage
   * collection may all race to call it.
   */
  finish(outcome: Outcome, errorType: string | undefined, end: number): void {
    if (this.outcome !== undefined) return;
    this.outcome = outcome;
    this.errorType = outcome === 'error' ? errorType : undefined;
    this.end = end;
    if (this.usage === undefined && this.outputChunks > 0) {
      // No usage arrived (cancelled, interrupted, or a provider that never sends it), yet output
      // was generated and is billed: estimate output tokens as one per output chunk (how
      // OpenAI-style servers stream) and input from the prompt's length, and say so.
      this.usage = { input: this.estimatedInputTokens, cacheRead: 0, cacheWrite: 0, output: this.outputChunks, reasoning: 0, estimated: true };
    }
    this.#listener.requestFinished(this);
  }
}
