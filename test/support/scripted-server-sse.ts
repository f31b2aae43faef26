/**
 * Body builders for the scripted server: they turn a script into a plan (status, headers,
 * and the list of SSE events with their due times in ms after request arrival) or into a
 * JSON reply. No I/O happens here; `scripted-server.ts` executes the plans.
 */
import { randomBytes } from 'node:crypto';
import type {
  ChatStreamScript,
  JsonScript,
  RawSseScript,
  RecordedRequest,
  ResponsesStreamScript,
  StreamTiming,
  Usage,
} from './scripted-server-types.ts';

export const DEFAULT_MODEL = 'gpt-4o-mini-2024-07-18';
export const DEFAULT_EMBEDDING_MODEL = 'text-embedding-3-small';
export const DEFAULT_CHUNKS: readonly string[] = ['Hel', 'lo', ' wor', 'ld'];
export const DEFAULT_INPUT_TOKENS = 12;
const DEFAULT_ERROR_MESSAGE = 'The server had an error while processing your request.';

export interface PlannedEvent {
  /** ms after request arrival */
  atMs: number;
  data: string | Uint8Array;
  /** the event carries generated output (content, reasoning, tool-call arguments) */
  output: boolean;
}
export interface StreamPlan {
  status: number;
  headers: Record<string, string>;
  headersMs: number;
  events: PlannedEvent[];
  /** events per res.write() */
  batch: number;
  end: 'end' | 'destroy' | 'hang';
  /** when to end/destroy (ms after arrival); default: with the last write */
  endMs?: number;
}
export interface JsonReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * A scripted disconnect happens when the next output chunk would have been due, and at
 * least this long after the last write: the client's ReadableStream discards chunks still
 * queued when the body errors, so an immediate destroy could swallow the last chunk.
 */
export const DISCONNECT_MIN_MS = 10;
/** When to destroy the socket after `sent` output chunks, given the would-be times of the chunks. */
export function disconnectAt(timing: StreamTiming, sent: number, total: number, lastWriteAt: number): number {
  const next = outputTimes(timing, Math.max(total, sent + 1))[sent] ?? lastWriteAt;
  return Math.max(next, lastWriteAt + DISCONNECT_MIN_MS);
}

export const randomId = (prefix: string): string => `${prefix}${randomBytes(12).toString('hex')}`;
const nowSeconds = (): number => Math.floor(Date.now() / 1000);
const sse = (data: unknown): string => `data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
const namedSse = (event: string, data: unknown): string => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

export type Endpoint = 'chat' | 'completions' | 'responses' | 'embeddings' | 'other';
export function endpointOf(path: string): Endpoint {
  if (path.endsWith('/chat/completions')) return 'chat';
  if (path.endsWith('/completions')) return 'completions';
  if (path.endsWith('/responses')) return 'responses';
  if (path.endsWith('/embeddings')) return 'embeddings';
  return 'other';
}

export function bodyField(req: RecordedRequest, key: string): unknown {
  const body = req.body;
  return body !== null && typeof body === 'object' ? (body as Record<string, unknown>)[key] : undefined;
}
export const isStreamingRequest = (req: RecordedRequest): boolean => bodyField(req, 'stream') === true;

export function sseHeaders(extra?: Record<string, string>): Record<string, string> {
  return {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'x-request-id': randomId('req_'),
    ...lower(extra),
  };
}
export function lower(headers?: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) out[k.toLowerCase()] = v;
  return out;
}

/** Due times of the output chunks: the first at max(headersMs, ttftMs), then the scripted gaps. */
export function outputTimes(timing: StreamTiming, count: number): number[] {
  const gap = timing.gapMs ?? 0;
  let at = Math.max(timing.headersMs ?? 0, timing.ttftMs ?? 0);
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    if (i > 0) at += Array.isArray(gap) ? (gap[i - 1] ?? 0) : gap;
    times.push(at);
  }
  return times;
}

export type Cut = { after: number; how: 'destroy' | 'hang' | 'error' };
/** The earliest of disconnectAfter / stallAfter / errorAfter, if any. */
export function cutOf(script: StreamTiming & { errorAfter?: { chunks: number } }): Cut | undefined {
  const cuts: Cut[] = [];
  if (script.errorAfter) cuts.push({ after: script.errorAfter.chunks, how: 'error' });
  if (script.disconnectAfter !== undefined) cuts.push({ after: script.disconnectAfter, how: 'destroy' });
  if (script.stallAfter !== undefined) cuts.push({ after: script.stallAfter, how: 'hang' });
  cuts.sort((a, b) => a.after - b.after);
  return cuts[0];
}

export function openAIErrorBody(status: number, message?: string, code?: string, type?: string, param: string | null = null) {
  const defaults: Record<number, [string, string, string]> = {
    400: ['invalid_request_error', 'invalid_request_error', 'Invalid request (scripted).'],
    401: ['invalid_request_error', 'invalid_api_key', 'Incorrect API key provided (scripted).'],
    403: ['invalid_request_error', 'permission_denied', 'Permission denied (scripted).'],
    404: ['invalid_request_error', 'model_not_found', 'The model does not exist (scripted).'],
    429: ['requests', 'rate_limit_exceeded', 'Rate limit reached for requests (scripted).'],
    500: ['server_error', 'server_error', DEFAULT_ERROR_MESSAGE],
    503: ['server_error', 'service_unavailable', 'The server is overloaded or not ready yet (scripted).'],
  };
  const [dType, dCode, dMessage] = defaults[status] ?? (status >= 500 ? defaults[500]! : defaults[400]!);
  return { error: { message: message ?? dMessage, type: type ?? dType, param, code: code ?? dCode } };
}

function chatUsage(u: Usage) {
  return {
    prompt_tokens: u.input,
    completion_tokens: u.output,
    total_tokens: u.input + u.output,
    prompt_tokens_details: { cached_tokens: u.cachedInput ?? 0 },
    completion_tokens_details: { reasoning_tokens: 0 },
  };
}
function responsesUsage(u: Usage) {
  return {
    input_tokens: u.input,
    input_tokens_details: { cached_tokens: u.cachedInput ?? 0 },
    output_tokens: u.output,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: u.input + u.output,
  };
}

/** Plan for a chat-stream script; on `/completions` (legacy) it streams text_completion chunks. */
export function planChatStream(script: ChatStreamScript, req: RecordedRequest): StreamPlan | JsonReply {
  const headersMs = script.headersMs ?? 0;
  const streamOptions = bodyField(req, 'stream_options');
  if (script.rejectStreamOptions && streamOptions !== undefined) {
    return {
      status: 400,
      headers: { 'content-type': 'application/json', 'x-request-id': randomId('req_'), ...lower(script.headers) },
      body: JSON.stringify(
        openAIErrorBody(400, 'Unrecognized request argument supplied: stream_options', 'invalid_request_error', 'invalid_request_error', 'stream_options'),
      ),
    };
  }
  const legacy = endpointOf(req.path) === 'completions';
  const model = script.model ?? DEFAULT_MODEL;
  const chunks = script.chunks ?? [...DEFAULT_CHUNKS];
  const reasoning = legacy ? [] : (script.reasoning ?? []);
  const mode = script.includeUsage ?? 'auto';
  const withUsage =
    mode === 'always' ||
    (mode === 'auto' &&
      streamOptions !== null &&
      typeof streamOptions === 'object' &&
      (streamOptions as Record<string, unknown>)['include_usage'] === true);
  const usage = script.usage ?? { input: DEFAULT_INPUT_TOKENS, output: reasoning.length + chunks.length };
  const id = randomId(legacy ? 'cmpl-' : 'chatcmpl-');
  const created = nowSeconds();
  const toolCallId = randomId('call_');
  const usageTail = withUsage ? { usage: null } : {};

  const chunk = (delta: Record<string, unknown>, finish: string | null = null): string =>
    legacy
      ? sse({
          id, object: 'text_completion', created,
          choices: [{ text: (delta['content'] as string | undefined) ?? '', index: 0, logprobs: null, finish_reason: finish }],
          model, system_fingerprint: 'fp_test', ...usageTail,
        })
      : sse({
          id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_test',
          choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...usageTail,
        });

  const events: PlannedEvent[] = [];
  if (!legacy && script.emptyChoicesFirst) {
    events.push({
      atMs: headersMs, output: false,
      data: sse({
        choices: [], created: 0, id: '', model: '', object: '',
        prompt_filter_results: [{
          prompt_index: 0,
          content_filter_results: {
            hate: { filtered: false, severity: 'safe' }, self_harm: { filtered: false, severity: 'safe' },
            sexual: { filtered: false, severity: 'safe' }, violence: { filtered: false, severity: 'safe' },
          },
        }],
      }),
    });
  }
  if (!legacy && script.roleChunk !== false) {
    events.push({ atMs: headersMs, output: false, data: chunk({ role: 'assistant', content: '' }) });
  }

  const outputs: string[] = [
    ...reasoning.map((piece) => chunk({ reasoning_content: piece })),
    ...chunks.map((piece, i) => {
      if (legacy || !script.toolCall) return chunk({ content: piece });
      const fn = i === 0 ? { name: script.toolCall.name, arguments: piece } : { arguments: piece };
      const call = i === 0 ? { index: 0, id: toolCallId, type: 'function', function: fn } : { index: 0, function: fn };
      return chunk({ tool_calls: [call] });
    }),
  ];
  const times = outputTimes(script, outputs.length);
  const cut = cutOf(script);
  const sent = cut ? Math.min(cut.after, outputs.length) : outputs.length;
  for (let i = 0; i < sent; i++) events.push({ atMs: times[i]!, data: outputs[i]!, output: true });
  const lastAt = sent > 0 ? times[sent - 1]! : Math.max(headersMs, script.ttftMs ?? 0);
  const cutAt = sent > 0 ? times[sent - 1]! : headersMs;

  if (cut) {
    if (cut.how === 'error') {
      const e = script.errorAfter!;
      const body = openAIErrorBody(500, e.message ?? DEFAULT_ERROR_MESSAGE, e.code ?? 'server_error', e.type ?? 'server_error');
      events.push({ atMs: cutAt, output: false, data: sse(body) });
    }
    const endMs = cut.how === 'destroy' ? disconnectAt(script, sent, outputs.length, cutAt) : undefined;
    return { status: 200, headers: sseHeaders(script.headers), headersMs, events, batch: script.batch ?? 1, end: cut.how === 'error' ? 'end' : cut.how, endMs };
  }

  const finish = script.finishReason ?? (script.toolCall && !legacy ? 'tool_calls' : 'stop');
  events.push({ atMs: lastAt, output: false, data: chunk({}, finish) });
  if (withUsage) {
    const usageChunk = legacy
      ? { id, object: 'text_completion', created, choices: [], model, system_fingerprint: 'fp_test', usage: chatUsage(usage) }
      : { id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_test', choices: [], usage: chatUsage(usage) };
    events.push({ atMs: lastAt, output: false, data: sse(usageChunk) });
  }
  if (script.sendDone !== false) events.push({ atMs: lastAt, output: false, data: sse('[DONE]') });
  return { status: 200, headers: sseHeaders(script.headers), headersMs, events, batch: script.batch ?? 1, end: 'end' };
}

function responseObject(id: string, model: string, createdAt: number, over: Record<string, unknown>) {
  return {
    id, object: 'response', created_at: createdAt, status: 'in_progress', background: false, error: null,
    incomplete_details: null, instructions: null, max_output_tokens: null, model, output: [],
    parallel_tool_calls: true, previous_response_id: null, reasoning: { effort: null, summary: null },
    store: true, temperature: 1, text: { format: { type: 'text' } }, tool_choice: 'auto', tools: [],
    top_p: 1, truncation: 'disabled', usage: null, user: null, metadata: {}, ...over,
  };
}
function messageItem(itemId: string, text: string, status: string) {
  return {
    id: itemId, type: 'message', status, role: 'assistant',
    content: [{ type: 'output_text', annotations: [], logprobs: [], text }],
  };
}

export function planResponsesStream(script: ResponsesStreamScript): StreamPlan {
  const headersMs = script.headersMs ?? 0;
  const model = script.model ?? DEFAULT_MODEL;
  const chunks = script.chunks ?? [...DEFAULT_CHUNKS];
  const usage = script.usage ?? { input: DEFAULT_INPUT_TOKENS, output: chunks.length };
  const id = randomId('resp_');
  const itemId = randomId('msg_');
  const createdAt = nowSeconds();
  let seq = 0;
  const ev = (type: string, fields: Record<string, unknown>): string => namedSse(type, { type, sequence_number: seq++, ...fields });
  const loc = { item_id: itemId, output_index: 0, content_index: 0 };

  const events: PlannedEvent[] = [];
  const push = (atMs: number, data: string, output = false) => events.push({ atMs, data, output });
  push(headersMs, ev('response.created', { response: responseObject(id, model, createdAt, {}) }));
  push(headersMs, ev('response.in_progress', { response: responseObject(id, model, createdAt, {}) }));

  const times = outputTimes(script, chunks.length);
  const cut = cutOf(script);
  const sent = cut ? Math.min(cut.after, chunks.length) : chunks.length;
  const firstAt = times[0] ?? Math.max(headersMs, script.ttftMs ?? 0);
  if (!cut || cut.after > 0) {
    push(firstAt, ev('response.output_item.added', { output_index: 0, item: { id: itemId, type: 'message', status: 'in_progress', content: [], role: 'assistant' } }));
    push(firstAt, ev('response.content_part.added', { ...loc, part: { type: 'output_text', annotations: [], logprobs: [], text: '' } }));
  }
  for (let i = 0; i < sent; i++) push(times[i]!, ev('response.output_text.delta', { ...loc, delta: chunks[i]!, logprobs: [] }), true);
  const lastAt = sent > 0 ? times[sent - 1]! : cut ? headersMs : firstAt;
  const base = { status: 200, headers: sseHeaders(script.headers), headersMs, batch: script.batch ?? 1 };

  if (cut) {
    if (cut.how === 'error') {
      const e = script.errorAfter!;
      push(lastAt, namedSse('error', { type: 'error', sequence_number: seq++, code: e.code ?? 'server_error', message: e.message ?? DEFAULT_ERROR_MESSAGE, param: null }));
    }
    const endMs = cut.how === 'destroy' ? disconnectAt(script, sent, chunks.length, lastAt) : undefined;
    return { ...base, events, end: cut.how === 'error' ? 'end' : cut.how, endMs };
  }

  const terminal = script.terminal ?? 'completed';
  if (terminal === 'failed') {
    const error = { code: script.errorCode ?? 'server_error', message: DEFAULT_ERROR_MESSAGE };
    push(lastAt, ev('response.failed', { response: responseObject(id, model, createdAt, { status: 'failed', error }) }));
    return { ...base, events, end: 'end' };
  }
  const text = chunks.join('');
  const itemStatus = terminal === 'completed' ? 'completed' : 'incomplete';
  const item = messageItem(itemId, text, itemStatus);
  push(lastAt, ev('response.output_text.done', { ...loc, text, logprobs: [] }));
  push(lastAt, ev('response.content_part.done', { ...loc, part: item.content[0] }));
  push(lastAt, ev('response.output_item.done', { output_index: 0, item }));
  const final = responseObject(id, model, createdAt, {
    status: terminal,
    output: [item],
    usage: responsesUsage(usage),
    ...(terminal === 'incomplete' ? { incomplete_details: { reason: 'max_output_tokens' } } : {}),
  });
  push(lastAt, ev(`response.${terminal}`, { response: final }));
  return { ...base, events, end: 'end' };
}

/** A raw-sse script: its writes verbatim, one res.write() each, at their own times. */
export function planRawSse(script: RawSseScript): StreamPlan {
  return {
    status: script.status ?? 200,
    headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', ...lower(script.headers) },
    headersMs: script.headersMs ?? 0,
    events: script.writes.map((w) => ({ atMs: w.atMs, data: w.data, output: w.output ?? false })),
    batch: 1,
    end: script.end ?? 'end',
    endMs: script.endMs,
  };
}

/** The JSON reply of a `json` script: scripted body, OpenAI error shape, or a default body for the endpoint. */
export function buildJsonReply(script: JsonScript, req: RecordedRequest): JsonReply {
  const status = script.status ?? 200;
  const headers = { 'content-type': 'application/json', 'x-request-id': randomId('req_'), ...lower(script.headers) };
  if (script.body !== undefined) {
    return { status, headers, body: typeof script.body === 'string' ? script.body : JSON.stringify(script.body) };
  }
  if (status >= 400) return { status, headers, body: JSON.stringify(openAIErrorBody(status)) };
  const endpoint = endpointOf(req.path);
  const content = script.content ?? DEFAULT_CHUNKS.join('');
  const usage = script.usage ?? { input: DEFAULT_INPUT_TOKENS, output: DEFAULT_CHUNKS.length };
  const model = script.model ?? (endpoint === 'embeddings' ? DEFAULT_EMBEDDING_MODEL : DEFAULT_MODEL);
  let body: unknown;
  if (endpoint === 'embeddings') {
    body = {
      object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2, 0.3] }], model,
      usage: { prompt_tokens: usage.input, total_tokens: usage.input },
    };
  } else if (endpoint === 'responses') {
    body = responseObject(randomId('resp_'), model, nowSeconds(), {
      status: 'completed', output: [messageItem(randomId('msg_'), content, 'completed')], usage: responsesUsage(usage),
    });
  } else if (endpoint === 'completions') {
    body = {
      id: randomId('cmpl-'), object: 'text_completion', created: nowSeconds(), model, system_fingerprint: 'fp_test',
      choices: [{ text: content, index: 0, logprobs: null, finish_reason: 'stop' }], usage: chatUsage(usage),
    };
  } else {
    body = {
      id: randomId('chatcmpl-'), object: 'chat.completion', created: nowSeconds(), model,
      choices: [{
        index: 0, message: { role: 'assistant', content, refusal: null, annotations: [] }, logprobs: null, finish_reason: 'stop',
      }],
      usage: chatUsage(usage), service_tier: 'default', system_fingerprint: 'fp_test',
    };
  }
  return { status, headers, body: JSON.stringify(body) };
}
