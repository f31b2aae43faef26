import { estimateTokens } from '../../request/estimate.js';
import type { JsonObject, ProtocolRequest, ResponseSink } from '../protocol.js';
export { routeIs } from '../route.js';
import { findModel, findUsage, normalizeUsage } from './json-text.js';

/** The prompt-carrying members of chat completions, Responses, legacy completions and embeddings. */
const PROMPT_KEYS = ['messages', 'input', 'prompt', 'instructions'] as const;

/** An OpenAI-style request: the model and the stream flag from the body; nothing added to it. */
export function openaiRequest(operation: string, body: JsonObject | undefined): ProtocolRequest {
  const model = body?.['model'];
  return {
    operation,
    model: typeof model === 'string' ? model : undefined,
    stream: body?.['stream'] === true,
    estimatedInputTokens: estimateTokens(body, PROMPT_KEYS),
    withUsageRequested: () => undefined,
    refusesUsageRequest: () => false,
  };
}

/** Reads an OpenAI-style JSON response (chat completion, Responses `response`, embeddings list). */
export function readJson(body: unknown, sink: ResponseSink): void {
  if (typeof body !== 'object' || body === null) return;
  const b = body as Record<string, unknown>;
  const model = b['model'];
  if (typeof model === 'string') sink.model(model);
  const usage = normalizeUsage(b['usage']);
  if (usage !== undefined) sink.usage(usage);
}

/** Reads a large OpenAI-style JSON response from its head (where `model` is) and tail (where `usage` is). */
export function readLargeJson(head: string, tail: string, sink: ResponseSink): void {
  const model = findModel(head) ?? findModel(tail);
  if (model !== undefined) sink.model(model);
  const usage = findUsage(tail);
  if (usage !== undefined) sink.usage(usage);
}
