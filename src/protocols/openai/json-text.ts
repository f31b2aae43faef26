import { type Usage, tokenCount } from '../../usage.js';

import { findObject, findString, member } from '../json-lookup.js';

/** The first `"model": "…"` value in `text`, cut to 128 characters. */
export function findModel(text: string): string | undefined {
  return findString(text, 'model')?.slice(0, 128);
}

/** The last `"usage": {…}` object in `text`, normalised; undefined if absent, null or malformed. */
export function findUsage(text: string): Usage | undefined {
  return normalizeUsage(findObject(text, 'usage'));
}

/**
 * Reads the usage shapes of chat completions (`prompt_tokens`, `completion_tokens`), the
 * Responses API (`input_tokens`, `output_tokens`) and embeddings (`prompt_tokens` only).
 * Output is the billed output, reasoning included: OpenAI counts reasoning inside
 * `completion_tokens`; xAI leaves it out (its `total_tokens` is prompt + completion + reasoning),
 * and then it is added.
 */
export function normalizeUsage(value: unknown): Usage | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const u = value as Record<string, unknown>;
  const input = tokenCount(u['prompt_tokens']) ?? tokenCount(u['input_tokens']);
  let output = tokenCount(u['completion_tokens']) ?? tokenCount(u['output_tokens']);
  if (input === undefined && output === undefined) return undefined;
  const inputDetails = u['prompt_tokens_details'] ?? u['input_tokens_details'];
  const outputDetails = u['completion_tokens_details'] ?? u['output_tokens_details'];
  const cacheRead = tokenCount(member(inputDetails, 'cached_tokens')) ?? 0;
  const reasoning = tokenCount(member(outputDetails, 'reasoning_tokens')) ?? 0;
  const total = tokenCount(u['total_tokens']);
  if (output !== undefined && reasoning > 0 && total !== undefined && total === (input ?? 0) + output + reasoning) {
    output += reasoning; // reasoning billed beside the completion count (xAI)
  }
  return { input, cacheRead, cacheWrite: 0, output, reasoning, estimated: false };
}

/** The provider's error code from an error object (`{code, type}`), if it has a usable one. */
export function errorCodeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as Record<string, unknown>;
  for (const key of ['code', 'type']) {
    const value = e[key];
    if (typeof value === 'string' && value.length > 0) return value;
    if (typeof value === 'number') return String(value);
  }
  return undefined;
}
