import { estimateTokens } from '../request/estimate.js';
import { OPERATION_CHAT } from '../semconv.js';
import { createBlockParser } from '../stream/sse-events.js';
import { type Usage, tokenCount } from '../usage.js';
import { findObject, findString, member, parseJson } from './json-lookup.js';
import type { EventReader, JsonObject, Protocol, ProtocolRequest, ResponseSink } from './protocol.js';
import { routeIs } from './route.js';

/*
 * Anthropic Messages (`POST /v1/messages`): `event:`-named SSE events. `message_start` carries the
 * model and the first usage, `content_block_delta` the output (text, thinking, tool input),
 * `message_delta` the cumulative usage (its input and cache counts, when present, replace the
 * first ones), `message_stop` the end, `event: error` an error inside a 200 stream.
 */

const PROMPT_KEYS = ['system', 'messages'] as const;

function recognise(url: URL, body: JsonObject | undefined): ProtocolRequest | undefined {
  // The Assistants API's `/threads/{id}/messages` ends the same way; its body has no `messages`.
  if (!routeIs(url, '/messages') || !Array.isArray(body?.['messages'])) return undefined;
  const model = body['model'];
  return {
    operation: OPERATION_CHAT,
    model: typeof model === 'string' ? model : undefined,
    stream: body['stream'] === true,
    estimatedInputTokens: estimateTokens(body, PROMPT_KEYS),
    // Anthropic streams report usage unasked.
    withUsageRequested: () => undefined,
    refusesUsageRequest: () => false,
  };
}

/**
 * Usage as the conventions count it: `input_tokens` leaves cache reads and writes out, so they
 * are added. A response whose server-side rounds (context compaction, tool loops, a fallback
 * model) are listed in `usage.iterations` bills the rounds the top level leaves out (compaction):
 * each total is the larger of the top level and the rounds' sum.
 */
export function anthropicUsage(raw: unknown): Usage | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const u = raw as JsonObject;
  const own = counts(u);
  if (own.input === undefined && own.output === undefined) return undefined;
  let { input, cacheRead, cacheWrite, output } = own;
  const iterations = u['iterations'];
  if (Array.isArray(iterations) && iterations.length > 0) {
    const sum = { input: 0, cacheRead: 0, cacheWrite: 0, output: 0 };
    for (const round of iterations) {
      const c = counts(round);
      sum.input += c.input ?? 0;
      sum.cacheRead += c.cacheRead;
      sum.cacheWrite += c.cacheWrite;
      sum.output += c.output ?? 0;
    }
    input = Math.max(input ?? 0, sum.input);
    cacheRead = Math.max(cacheRead, sum.cacheRead);
    cacheWrite = Math.max(cacheWrite, sum.cacheWrite);
    output = Math.max(output ?? 0, sum.output);
  }
  const reasoning = tokenCount(member(u['output_tokens_details'], 'thinking_tokens')) ?? 0;
  return { input, cacheRead, cacheWrite, output, reasoning, estimated: false };
}

function counts(value: unknown): { input: number | undefined; cacheRead: number; cacheWrite: number; output: number | undefined } {
  const own = tokenCount(member(value, 'input_tokens'));
  const cacheRead = tokenCount(member(value, 'cache_read_input_tokens')) ?? 0;
  const cacheWrite = tokenCount(member(value, 'cache_creation_input_tokens')) ?? 0;
  return {
    input: own === undefined ? undefined : own + cacheRead + cacheWrite,
    cacheRead,
    cacheWrite,
    output: tokenCount(member(value, 'output_tokens')),
  };
}

/** The delta types that carry generated output, when their text is not empty. */
const OUTPUT_DELTAS: Readonly<Record<string, string>> = { text_delta: 'text', thinking_delta: 'thinking', input_json_delta: 'partial_json' };
const DELTA_EVENT = 'event: content_block_delta\n';

/** Reads parsed Anthropic Messages stream events; see {@link anthropicEventReader}. */
export interface AnthropicEventReader {
  /** One event: the parsed JSON object of its data (`{"type":"content_block_delta",…}`). */
  read(event: unknown): void;
  /** An event with generated output was read. */
  readonly sawOutput: boolean;
  /** The usage so far, as last reported to the sink; undefined before any. */
  readonly usage: Usage | undefined;
}

/**
 * Reads Anthropic Messages stream events, already parsed, into a sink: the meaning of each
 * event (output, usage merged across message_start and message_delta, the model, the end, an
 * error). Shared with Bedrock's InvokeModelWithResponseStream, whose chunks carry these same
 * events for Claude models, so that the two read them alike.
 */
export function anthropicEventReader(sink: ResponseSink): AnthropicEventReader {
  let sawOutput = false;
  /** The usage so far: message_start's, with every later message_delta's non-null members over it. */
  let raw: JsonObject | undefined;
  let usage: Usage | undefined;

  const addUsage = (value: unknown): void => {
    if (typeof value !== 'object' || value === null) return;
    raw ??= {};
    for (const [key, v] of Object.entries(value)) if (v !== null && v !== undefined) raw[key] = v;
    const converted = anthropicUsage(raw);
    if (converted !== undefined) {
      usage = converted;
      sink.usage(converted);
    }
  };

  return {
    read(event) {
      const type = member(event, 'type');
      if (type === 'content_block_delta') {
        const delta = member(event, 'delta');
        const field = OUTPUT_DELTAS[member(delta, 'type') as string];
        const text = field === undefined ? undefined : member(delta, field);
        if (typeof text === 'string' && text !== '') {
          sawOutput = true;
          sink.output();
        }
      } else if (type === 'message_start') {
        const message = member(event, 'message');
        const model = member(message, 'model');
        if (typeof model === 'string') sink.model(model);
        addUsage(member(message, 'usage'));
      } else if (type === 'message_delta') {
        addUsage(member(event, 'usage'));
      } else if (type === 'message_stop') {
        sink.complete();
      } else if (type === 'error') {
        const code = member(member(event, 'error'), 'type');
        sink.error(typeof code === 'string' ? code : undefined);
      }
    },
    get sawOutput() {
      return sawOutput;
    },
    get usage() {
      return usage;
    },
  };
}

function events(sink: ResponseSink): EventReader {
  const parse = createBlockParser();
  const reader = anthropicEventReader(sink);

  return {
    read(block) {
      // Hot path: after the first output, a `content_block_delta` of the usual compact shape is
      // classified by substring, with no parse and no allocation.
      if (reader.sawOutput && block.startsWith(DELTA_EVENT)) {
        const kind = outputDelta(block);
        if (kind === true) sink.output();
        if (kind !== undefined) return block;
      }
      for (const event of parse(block)) reader.read(parseJson(event.data));
      return block;
    },
    end() {},
  };
}

/**
 * Whether a compact `content_block_delta` event (its SSE block, or its JSON alone) carries
 * output: true, false (a signature, a citation, an empty text), or undefined when it is not of
 * the usual shape (the slow path reads it).
 */
export function outputDelta(block: string): boolean | undefined {
  const at = block.indexOf('"delta":{"type":"');
  if (at === -1) return undefined;
  const type = at + 17;
  if (block.startsWith('text_delta"', type)) return !block.startsWith(',"text":""', type + 11);
  if (block.startsWith('thinking_delta"', type)) return !block.startsWith(',"thinking":""', type + 15);
  if (block.startsWith('input_json_delta"', type)) return !block.startsWith(',"partial_json":""', type + 17);
  if (block.startsWith('signature_delta"', type) || block.startsWith('citations_delta"', type)) return false;
  return undefined;
}

function json(body: unknown, sink: ResponseSink): void {
  const model = member(body, 'model');
  if (typeof model === 'string') sink.model(model);
  const usage = anthropicUsage(member(body, 'usage'));
  if (usage !== undefined) sink.usage(usage);
}

function largeJson(head: string, tail: string, sink: ResponseSink): void {
  const model = findString(head, 'model') ?? findString(tail, 'model');
  if (model !== undefined) sink.model(model);
  const usage = anthropicUsage(findObject(tail, 'usage'));
  if (usage !== undefined) sink.usage(usage);
}

/** Anthropic Messages, through any client (the official SDK, the Vercel AI SDK, LangChain). */
export const anthropicMessages: Protocol = {
  name: 'anthropic.messages',
  provider: 'anthropic',
  recognise,
  events,
  cutMarker: undefined,
  json,
  largeJson,
};
