import { estimateTokens } from '../../request/estimate.js';
import { OPERATION_CHAT, OPERATION_EMBEDDINGS, OPERATION_TEXT_COMPLETION } from '../../semconv.js';
import { type Usage, tokenCount } from '../../usage.js';
// The one protocol import of another (allowed by test/architecture.test.ts for this file only):
// Claude on InvokeModel streams Anthropic Messages events, and they must mean the same here.
import { anthropicEventReader, anthropicUsage, outputDelta } from '../anthropic.js';
import { findObject, findString, member, parseJson } from '../json-lookup.js';
import type { EventReader, JsonObject, MessageReader, Protocol, ProtocolRequest, ResponseSink } from '../protocol.js';
import { converseEventReader } from './converse.js';
import { bedrockRoute, converseUsage, latencyOf, payloadText, readException } from './route.js';

/*
 * Amazon Bedrock InvokeModel (`POST /model/{modelId}/invoke`) and InvokeModelWithResponseStream
 * (`…/invoke-with-response-stream`): the model's own request and response JSON, inside Bedrock's
 * envelope. The stream is a binary event stream of `chunk` messages, each `{"bytes": "<base64>"}`
 * holding one of the model's own events:
 *
 * - Claude: Anthropic Messages events, read with the same meaning as on Anthropic's API.
 * - Amazon Nova: Converse events (`{"contentBlockDelta": {…}}`), read as Converse's.
 * - Other families (Llama, Mistral, Titan, Cohere, gpt-oss): a chunk with generated text in
 *   the member their API names it (`generation`, `outputText`, `outputs[].text`, `text`,
 *   `completion`, `choices[]`) is output.
 *
 * Bedrock adds `amazon-bedrock-invocationMetrics` to the last chunk of every model
 * (`inputTokenCount`, `outputTokenCount`, cache counts, `invocationLatency`, `firstByteLatency`):
 * its billed counts, which replace the model's own, and its own latency. That chunk ends the
 * stream. An error inside a 200 stream is a message of `:message-type` exception.
 *
 * Operation: `embeddings` for an embedding model (its id names `embed`), `chat` for a body with
 * `messages` (Claude, Nova, Llama 3 and Mistral chat), else `text_completion` (a `prompt` or
 * `inputText`). A non-streamed answer is read for Claude's and Nova's usage; other families
 * report theirs only in response headers.
 */

const PROMPT_KEYS = ['system', 'messages', 'prompt', 'inputText'] as const;
const METRICS = 'amazon-bedrock-invocationMetrics';

function recognise(url: URL, body: JsonObject | undefined): ProtocolRequest | undefined {
  const route = bedrockRoute(url);
  if (route === undefined || (route.action !== 'invoke' && route.action !== 'invoke-with-response-stream')) return undefined;
  const operation = /embed/i.test(route.modelId) ? OPERATION_EMBEDDINGS : Array.isArray(body?.['messages']) ? OPERATION_CHAT : OPERATION_TEXT_COMPLETION;
  return {
    operation,
    model: route.modelId,
    stream: route.action === 'invoke-with-response-stream',
    estimatedInputTokens: estimateTokens(body, PROMPT_KEYS),
    // Bedrock adds its invocation metrics to every stream unasked.
    withUsageRequested: () => undefined,
    refusesUsageRequest: () => false,
  };
}

/**
 * Bedrock's invocation metrics as usage: its `inputTokenCount` leaves cache reads and writes out
 * (as Anthropic's `input_tokens` does), so they are added, from the metrics where they name them,
 * else from the model's own usage (`model`).
 */
export function invocationUsage(metrics: unknown, model: Usage | undefined): Usage | undefined {
  const input = tokenCount(member(metrics, 'inputTokenCount'));
  const output = tokenCount(member(metrics, 'outputTokenCount'));
  if (input === undefined && output === undefined) return undefined;
  const cacheRead = tokenCount(member(metrics, 'cacheReadInputTokenCount')) ?? model?.cacheRead ?? 0;
  const cacheWrite = tokenCount(member(metrics, 'cacheWriteInputTokenCount')) ?? model?.cacheWrite ?? 0;
  return {
    input: input === undefined ? model?.input : input + cacheRead + cacheWrite,
    cacheRead,
    cacheWrite,
    output: output ?? model?.output,
    reasoning: model?.reasoning ?? 0,
    estimated: false,
  };
}

/** Members in which other model families put generated text. */
const TEXT_MEMBERS = ['generation', 'outputText', 'completion', 'text'] as const;
const CONVERSE_EVENTS = ['contentBlockDelta', 'messageStop', 'metadata', 'messageStart', 'contentBlockStart', 'contentBlockStop'] as const;

/** Whether a chunk of another model family (neither Claude nor Nova) carries generated text. */
function otherCarriesOutput(event: unknown): boolean {
  for (const key of TEXT_MEMBERS) {
    const text = member(event, key);
    if (typeof text === 'string' && text !== '') return true;
  }
  for (const list of [member(event, 'outputs'), member(event, 'choices')]) {
    if (!Array.isArray(list)) continue;
    for (const item of list) {
      const text = member(item, 'text') ?? member(member(item, 'delta'), 'content');
      if (typeof text === 'string' && text !== '') return true;
    }
  }
  return false;
}

const BYTES = '"bytes":"';
const DELTA_CHUNK = '{"type":"content_block_delta"';

/** The base64 text of a chunk's `bytes`: found by substring (base64 holds no quote), else parsed. */
function chunkBytes(text: string): string | undefined {
  const at = text.indexOf(BYTES);
  if (at !== -1) {
    const end = text.indexOf('"', at + BYTES.length);
    if (end !== -1) return text.slice(at + BYTES.length, end);
  }
  const bytes = member(parseJson(text), 'bytes');
  return typeof bytes === 'string' ? bytes : undefined;
}

const utf8 = new TextDecoder();

/** Base64 to UTF-8 text, or undefined if it is not base64. */
function fromBase64(base64: string): string | undefined {
  let binary: string;
  try {
    binary = atob(base64);
  } catch {
    return undefined;
  }
  // ASCII JSON (the rule: non-ASCII text is \u-escaped by most models) is its own text.
  let ascii = true;
  for (let i = 0; i < binary.length; i++) {
    if (binary.charCodeAt(i) >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return binary;
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return utf8.decode(bytes);
}

function messages(sink: ResponseSink): MessageReader {
  const anthropic = anthropicEventReader(sink);
  const converse = converseEventReader(sink);

  const readEvent = (event: unknown): void => {
    const metrics = member(event, METRICS);
    if (typeof member(event, 'type') === 'string') anthropic.read(event);
    else {
      const key = CONVERSE_EVENTS.find((k) => member(event, k) !== undefined);
      if (key !== undefined) converse.read(key, member(event, key));
      else if (otherCarriesOutput(event)) sink.output();
    }
    if (metrics !== undefined && metrics !== null) {
      const usage = invocationUsage(metrics, anthropic.usage);
      if (usage !== undefined) sink.usage(usage);
      const latency = latencyOf(member(metrics, 'invocationLatency'));
      if (latency !== undefined) sink.serverTiming(latency);
      // Bedrock adds the metrics to the last chunk only.
      sink.complete();
    }
  };

  return {
    read(message) {
      if (readException(message, sink)) return;
      if (message.headers[':event-type'] !== 'chunk') return;
      const base64 = chunkBytes(payloadText(message.payload));
      const text = base64 === undefined ? undefined : fromBase64(base64);
      if (text === undefined) return;
      // Hot path: after Claude's first output, a compact content_block_delta is classified by
      // substring, with no parse (the metrics never ride on a delta).
      if (anthropic.sawOutput && text.startsWith(DELTA_CHUNK)) {
        const kind = outputDelta(text);
        if (kind === true) sink.output();
        if (kind !== undefined) return;
      }
      readEvent(parseJson(text));
    },
    end() {},
  };
}

/** InvokeModel never answers with SSE; a body that does holds nothing this protocol reads. */
function events(): EventReader {
  return { read: (block) => block, end() {} };
}

function json(body: unknown, sink: ResponseSink): void {
  const usage = member(body, 'usage');
  if (member(usage, 'input_tokens') !== undefined || member(usage, 'output_tokens') !== undefined) {
    // Claude: an Anthropic Messages response.
    const model = member(body, 'model');
    if (typeof model === 'string') sink.model(model);
    const converted = anthropicUsage(usage);
    if (converted !== undefined) sink.usage(converted);
    return;
  }
  // Nova: Converse's usage shape.
  const converted = converseUsage(usage);
  if (converted !== undefined) sink.usage(converted);
}

function largeJson(head: string, tail: string, sink: ResponseSink): void {
  const model = findString(head, 'model') ?? findString(tail, 'model');
  json({ model, usage: findObject(tail, 'usage') }, sink);
}

/** Amazon Bedrock InvokeModel and InvokeModelWithResponseStream, through the AWS SDK or any client that takes a fetch. */
export const bedrockInvoke: Protocol = {
  name: 'aws.bedrock.invoke',
  provider: 'aws.bedrock',
  recognise,
  events,
  cutMarker: undefined,
  messages,
  json,
  largeJson,
};
