/**
 * Token counts of one request, with the meaning the OpenTelemetry GenAI conventions give them,
 * whatever the provider's own fields: every protocol converts its usage into this one shape
 * (where a provider counts otherwise, its module in src/protocols/ says how it converts).
 *
 * - `input` counts every input token, cache reads and cache writes included.
 * - `output` counts every billed output token, reasoning included.
 * - `cacheRead`, `cacheWrite` and `reasoning` are parts of those totals, kept apart because
 *   they are priced apart (or, for reasoning, because a dashboard asks).
 */
export interface Usage {
  /** All input tokens, cache reads and writes included; undefined if the provider did not say. */
  input: number | undefined;
  /** Input tokens read from the provider's prompt cache (part of `input`). */
  cacheRead: number;
  /** Input tokens written to the provider's prompt cache (part of `input`). */
  cacheWrite: number;
  /** All billed output tokens, reasoning included; undefined if the provider did not say. */
  output: number | undefined;
  /** Reasoning (thinking) tokens (part of `output`). */
  reasoning: number;
  /**
   * True when the counts were estimated (output from the output chunks seen, input from the
   * prompt's length), because the provider reported no usage.
   */
  estimated: boolean;
}

/** A count the provider reported: a finite number >= 0, else undefined. */
export function tokenCount(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}
