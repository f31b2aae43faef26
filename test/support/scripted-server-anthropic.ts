/**
 * The Anthropic Messages protocol of the scripted server: `POST .../v1/messages`.
 *
 * A stream is named SSE events (`event: x` + `data: {"type":"x",...}`): message_start (usage
 * with a placeholder output count), an optional ping, one content_block_start / _delta... /
 * _stop run per block, one or more message_delta (cumulative usage, whose input and cache
 * counts replace the start values), message_stop. Shapes follow the real API as recorded in
 * vercel/ai `packages/anthropic/src/__fixtures__` and the `@anthropic-ai/sdk` 1.x types.
 * No I/O here: planners return a `StreamPlan` or a `JsonReply`.
 */
import { DEFAULT_CHUNKS, DEFAULT_INPUT_TOKENS, cutOf, disconnectAt, lower, outputTimes, randomId } from './scripted-server-sse.ts';
import type { JsonReply, PlannedEvent, StreamPlan } from './scripted-server-sse.ts';
import type { JsonScript, StreamTiming } from './scripted-server-types.ts';

export const DEFAULT_ANTHROPIC_MODEL = 'claude-sonnet-4-5-20250929';

/** A `usage` object as the wire carries it; unknown fields pass through, `undefined` drops a default field. */
export interface AnthropicUsage {
  input_tokens?: number | null;
  output_tokens?: number;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation?: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number } | null;
  output_tokens_details?: { thinking_tokens?: number | null } | null;
  server_tool_use?: { web_search_requests?: number; web_fetch_requests?: number } | null;
  /** beta: compaction / server tool loops / fallback; `compaction` entries are NOT in the top-level counts */
  iterations?: Array<{
    type: 'message' | 'compaction' | 'advisor_message' | 'fallback_message';
    model?: string;
    input_tokens: number;
    output_tokens: number;
    cache_read_input_tokens?: number;
    cache_creation_input_tokens?: number;
  }>;
  service_tier?: string;
  [field: string]: unknown;
}

/** One content block of a scripted message; each string of `chunks` is one output chunk (one delta event). */
export type AnthropicBlock =
  | { type: 'text'; chunks: string[] }
  /** thinking_delta per chunk, then one signature_delta (not output) before the stop */
  | { type: 'thinking'; chunks: string[]; signature?: string }
  /** input_json_delta per chunk, after a first empty `""` one (not output) as the API sends */
  | { type: 'tool_use' | 'server_tool_use'; name: string; chunks: string[]; id?: string }
  /** a block that arrives whole in content_block_start, no deltas (web_search_tool_result, redacted_thinking, ...) */
  | { type: 'whole'; block: Record<string, unknown> };

export interface AnthropicStreamScript extends StreamTiming {
  kind: 'anthropic-stream';
  /** response model, default 'claude-sonnet-4-5-20250929' */
  model?: string;
  /** default [{type:'text', chunks:['Hel','lo',' wor','ld']}] */
  blocks?: AnthropicBlock[];
  /** message_start usage, merged over {input_tokens:12, cache_creation_input_tokens:0, cache_read_input_tokens:0, cache_creation:{0,0}, output_tokens:1, service_tier:'standard'} */
  startUsage?: AnthropicUsage;
  /** usage of the (single) message_delta, merged over {input_tokens, cache_* (as at the start), output_tokens: number of output chunks} */
  usage?: AnthropicUsage;
  /**
   * several message_delta events instead of the single default one, each with exactly this usage:
   * those with `afterBlock` go right after that block's content_block_stop (stop_reason null by default),
   * the others at the end (stop_reason: the script's). Server tools send several.
   */
  messageDeltas?: Array<{ usage: AnthropicUsage; stopReason?: string | null; afterBlock?: number }>;
  /** beta `usage.iterations` added to the last message_delta's usage (compaction entries are not in the top-level counts) */
  iterations?: AnthropicUsage['iterations'];
  /** default 'tool_use' when a tool_use block is scripted, else 'end_turn' */
  stopReason?: string;
  /**
   * where the `ping` goes: 'after-block-start' (default, as the API does: after the first
   * content_block_start, before its first delta), 'first' (right after message_start), 'none'
   */
  ping?: 'after-block-start' | 'first' | 'none';
  /** extra pings at these ms after arrival (keep-alives during a long time to first token) */
  pingsAtMs?: number[];
  /** after this many output chunks, send `event: error` with {"type":"error","error":{type, message}} and end (no message_stop) */
  errorAfter?: { chunks: number; type?: string; message?: string };
}

const START_USAGE: AnthropicUsage = {
  input_tokens: DEFAULT_INPUT_TOKENS,
  cache_creation_input_tokens: 0,
  cache_read_input_tokens: 0,
  cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
  output_tokens: 1,
  service_tier: 'standard',
};

const event = (name: string, data: Record<string, unknown>): string => `event: ${name}\ndata: ${JSON.stringify({ type: name, ...data })}\n\n`;
/** The real API writes its ping with a space after the colon. */
const PING = 'event: ping\ndata: {"type": "ping"}\n\n';

export function anthropicHeaders(extra?: Record<string, string>, contentType = 'text/event-stream; charset=utf-8'): Record<string, string> {
  return { 'content-type': contentType, 'cache-control': 'no-cache', 'request-id': randomId('req_'), ...lower(extra) };
}

const ERROR_TYPES: Record<number, [string, string]> = {
  400: ['invalid_request_error', 'Invalid request (scripted).'],
  401: ['authentication_error', 'invalid x-api-key (scripted).'],
  402: ['billing_error', 'Your credit balance is too low (scripted).'],
  403: ['permission_error', 'Your API key does not have permission (scripted).'],
  404: ['not_found_error', 'model: not found (scripted).'],
  413: ['request_too_large', 'Request exceeds the maximum allowed number of bytes (scripted).'],
  429: ['rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit (scripted).'],
  500: ['api_error', 'Internal server error (scripted).'],
  504: ['timeout_error', 'Request timed out (scripted).'],
  529: ['overloaded_error', 'Overloaded (scripted).'],
};
/** Anthropic's error body, for an HTTP status and optionally an explicit error type and message. */
export function anthropicErrorBody(status: number, type?: string, message?: string) {
  const [dType, dMessage] = ERROR_TYPES[status] ?? (status >= 500 ? ERROR_TYPES[500]! : ERROR_TYPES[400]!);
  return { type: 'error', error: { type: type ?? dType, message: message ?? dMessage }, request_id: randomId('req_') };
}

/** An event of the plan before timing: explicit ms, or attached to the previous / next output chunk. */
type Entry = { data: string; output: boolean; at: 'prev' | 'next' | number };

export function planAnthropicStream(script: AnthropicStreamScript): StreamPlan {
  const headersMs = script.headersMs ?? 0;
  const blocks = script.blocks ?? [{ type: 'text', chunks: [...DEFAULT_CHUNKS] }];
  const model = script.model ?? DEFAULT_ANTHROPIC_MODEL;
  const startUsage = { ...START_USAGE, ...script.startUsage };
  const entries: Entry[] = [];
  const push = (data: string, at: Entry['at'], output = false) => entries.push({ data, output, at });

  push(event('message_start', {
    message: { id: randomId('msg_'), type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: startUsage },
  }), headersMs);
  const ping = script.ping ?? 'after-block-start';
  if (ping === 'first') push(PING, 'prev');

  const hasToolUse = blocks.some((b) => b.type === 'tool_use');
  const stopReason = script.stopReason ?? (hasToolUse ? 'tool_use' : 'end_turn');
  const deltas = script.messageDeltas;
  const messageDelta = (usage: AnthropicUsage, stop: string | null, last: boolean) =>
    event('message_delta', {
      delta: { stop_reason: stop, stop_sequence: null },
      usage: last && script.iterations ? { ...usage, iterations: script.iterations } : usage,
    });

  let outputs = 0;
  blocks.forEach((block, index) => {
    if (block.type === 'whole') {
      push(event('content_block_start', { index, content_block: block.block }), 'next');
    } else if (block.type === 'text') {
      push(event('content_block_start', { index, content_block: { type: 'text', text: '' } }), 'next');
    } else if (block.type === 'thinking') {
      push(event('content_block_start', { index, content_block: { type: 'thinking', thinking: '', signature: '' } }), 'next');
    } else {
      const id = block.id ?? randomId(block.type === 'tool_use' ? 'toolu_' : 'srvtoolu_');
      push(event('content_block_start', { index, content_block: { type: block.type, id, name: block.name, input: {} } }), 'next');
      push(event('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: '' } }), 'next');
    }
    if (index === 0 && ping === 'after-block-start') push(PING, 'next');
    if (block.type !== 'whole') {
      for (const piece of block.chunks) {
        const delta =
          block.type === 'text' ? { type: 'text_delta', text: piece }
          : block.type === 'thinking' ? { type: 'thinking_delta', thinking: piece }
          : { type: 'input_json_delta', partial_json: piece };
        const output = piece !== '';
        if (output) outputs++;
        push(event('content_block_delta', { index, delta }), output ? outputs - 1 : 'prev', output);
      }
    }
    if (block.type === 'thinking') {
      push(event('content_block_delta', { index, delta: { type: 'signature_delta', signature: block.signature ?? `Es${randomId('')}` } }), 'prev');
    }
    push(event('content_block_stop', { index }), 'prev');
    for (const d of deltas ?? []) if (d.afterBlock === index) push(messageDelta(d.usage, d.stopReason ?? null, false), 'prev');
  });

  const tail = deltas?.filter((d) => d.afterBlock === undefined || d.afterBlock >= blocks.length) ?? [
    {
      usage: {
        input_tokens: startUsage.input_tokens,
        cache_creation_input_tokens: startUsage.cache_creation_input_tokens,
        cache_read_input_tokens: startUsage.cache_read_input_tokens,
        output_tokens: outputs,
        ...script.usage,
      },
      stopReason: undefined,
    },
  ];
  tail.forEach((d, i) => push(messageDelta(d.usage, d.stopReason === undefined ? stopReason : d.stopReason, i === tail.length - 1), 'next'));
  push(event('message_stop', {}), 'next');

  return timeEntries(script, entries, outputs, headersMs);
}

/** Gives every entry its due time, adds the timed pings, and applies disconnectAfter / stallAfter / errorAfter. */
function timeEntries(script: AnthropicStreamScript, entries: Entry[], total: number, headersMs: number): StreamPlan {
  const times = outputTimes(script, total);
  const lastAt = times[total - 1] ?? Math.max(headersMs, script.ttftMs ?? 0);
  // An output entry's `at` is its index among the output chunks; other numeric `at`s are ms.
  // 'prev' / 'next' take the due time of the neighbouring output chunk.
  const due: number[] = new Array<number>(entries.length);
  let prev = headersMs;
  for (let i = 0; i < entries.length; i++) {
    const at = entries[i]!.at;
    if (typeof at === 'number') prev = entries[i]!.output ? times[at]! : at;
    else if (at === 'next') {
      const next = entries.slice(i + 1).find((e) => e.output);
      prev = Math.max(prev, next ? times[next.at as number]! : lastAt);
    }
    due[i] = prev;
  }
  const events: PlannedEvent[] = entries.map((e, i) => ({ atMs: due[i]!, data: e.data, output: e.output }));
  for (const at of [...(script.pingsAtMs ?? [])].sort((a, b) => a - b)) {
    const pos = events.findIndex((e, i) => i > 0 && e.atMs > at);
    events.splice(pos === -1 ? events.length : pos, 0, { atMs: Math.max(at, headersMs), data: PING, output: false });
  }

  const base = { status: 200, headers: anthropicHeaders(script.headers), headersMs, batch: script.batch ?? 1 };
  const cut = cutOf(script);
  if (!cut) return { ...base, events, end: 'end' };

  // Keep everything up to the cut-th output chunk; with a cut at 0, only what precedes the first block.
  let keep = 0;
  let seen = 0;
  for (let i = 0; i < events.length && seen < cut.after; i++) {
    if (events[i]!.output) seen++;
    keep = i + 1;
  }
  if (cut.after === 0) {
    const firstBlock = events.findIndex((e) => typeof e.data === 'string' && e.data.startsWith('event: content_block_start'));
    keep = firstBlock === -1 ? events.length : firstBlock;
  }
  const kept = events.slice(0, keep);
  const sent = Math.min(cut.after, total);
  const cutAt = sent > 0 ? times[sent - 1]! : headersMs;
  if (cut.how === 'error') {
    const e = script.errorAfter!;
    const body = anthropicErrorBody(529, e.type ?? 'overloaded_error', e.message ?? 'Overloaded');
    kept.push({ atMs: cutAt, output: false, data: event('error', { error: body.error }) });
  }
  const endMs = cut.how === 'destroy' ? disconnectAt(script, sent, total, cutAt) : undefined;
  return { ...base, events: kept, end: cut.how === 'error' ? 'end' : cut.how, endMs };
}

/** The JSON reply of a `json` script on /v1/messages: an Anthropic `message`, or Anthropic's error shape. */
export function anthropicJsonReply(script: JsonScript): JsonReply {
  const status = script.status ?? 200;
  const headers = anthropicHeaders(script.headers, 'application/json');
  if (script.body !== undefined) {
    return { status, headers, body: typeof script.body === 'string' ? script.body : JSON.stringify(script.body) };
  }
  if (status >= 400) return { status, headers, body: JSON.stringify(anthropicErrorBody(status)) };
  const u = script.usage ?? { input: DEFAULT_INPUT_TOKENS, output: DEFAULT_CHUNKS.length };
  const body = {
    model: script.model ?? DEFAULT_ANTHROPIC_MODEL,
    id: randomId('msg_'),
    type: 'message',
    role: 'assistant',
    content: [{ type: 'text', text: script.content ?? DEFAULT_CHUNKS.join('') }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: {
      ...START_USAGE,
      input_tokens: u.input - (u.cachedInput ?? 0),
      cache_read_input_tokens: u.cachedInput ?? 0,
      output_tokens: u.output,
      ...script.providerUsage,
    },
  };
  return { status, headers, body: JSON.stringify(body) };
}

/** Anthropic's Messages path (`/v1/messages`), not OpenAI's `/threads/{id}/messages`. */
export const isAnthropicMessagesPath = (path: string): boolean => path.endsWith('/messages') && !path.includes('/threads/');
