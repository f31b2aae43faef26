/**
 * The public types of the scripted server: the request record, the scripts (one kind per
 * wire behaviour) and the server handle. `scripted-server.ts` re-exports all of them; the
 * provider scripts live beside their planners (`scripted-server-anthropic.ts`,
 * `scripted-server-gemini.ts`).
 */
import type { AnthropicStreamScript } from './scripted-server-anthropic.ts';
import type { GeminiStreamScript } from './scripted-server-gemini.ts';

export type { AnthropicBlock, AnthropicStreamScript, AnthropicUsage } from './scripted-server-anthropic.ts';
export type { GeminiStreamScript, GeminiUsageMetadata } from './scripted-server-gemini.ts';

export interface RecordedRequest {
  method: string;
  /** path without query string, e.g. '/v1/chat/completions' or '/v1beta/models/gemini-2.5-flash:streamGenerateContent' */
  path: string;
  /** the query string without '?', '' if none (e.g. 'alt=sse') */
  query: string;
  /** lower-cased names (node's req.headers, arrays joined with ', ') */
  headers: Record<string, string>;
  /** parsed JSON body, or the raw string if it is not JSON, or undefined */
  body: unknown;
  /** performance.now() when the request arrived */
  receivedAt: number;
}

export type Script =
  | ChatStreamScript
  | ResponsesStreamScript
  | JsonScript
  | RawSseScript
  | AnthropicStreamScript
  | GeminiStreamScript
  /** destroy the socket (TCP reset) before sending any header, `afterMs` after arrival (default 0) */
  | { kind: 'reset'; afterMs?: number }
  /** accept the request and never answer (until the client gives up or the server closes) */
  | { kind: 'hang' };

export interface Usage {
  input: number;
  output: number;
  cachedInput?: number;
}

export interface StreamTiming {
  /** ms from request arrival to the HTTP headers (default 0). */
  headersMs?: number;
  /** ms from request arrival to the first event carrying generated output (default 0; never before the headers). */
  ttftMs?: number;
  /** ms between consecutive output chunks: one number for all, or one per gap (gapMs[i] is the gap before chunk i+1; missing entries are 0). default 0 */
  gapMs?: number | number[];
  /**
   * if set, after this many output chunks the server destroys the socket mid-stream (no terminal event),
   * when the next chunk would have been due but at least 10 ms after the last write (so the client can read it).
   */
  disconnectAfter?: number;
  /** if set, after this many output chunks the server stops writing and keeps the connection open (until client aborts or server closes). */
  stallAfter?: number;
  /** events per res.write() batch: `batch` consecutive events concatenated in one write, at the due time of the batch's last event (default 1). */
  batch?: number;
  /** extra response headers (lower-cased; override the defaults). */
  headers?: Record<string, string>;
}

export interface ChatStreamScript extends StreamTiming {
  kind: 'chat-stream';
  /** response model, default 'gpt-4o-mini-2024-07-18' */
  model?: string;
  /** content pieces, one per output chunk; default ['Hel','lo',' wor','ld'] */
  chunks?: string[];
  /** first event is a role-only chunk {delta:{role:'assistant',content:''}} sent at headers time (default true) */
  roleChunk?: boolean;
  /** send an Azure-style first event with `choices: []` and `prompt_filter_results` before anything else (default false) */
  emptyChoicesFirst?: boolean;
  /** stream tool-call argument fragments instead of content (chunks are then the argument pieces) */
  toolCall?: { name: string };
  /** reasoning pieces streamed as `delta.reasoning_content` before the content (each one is an output chunk too) */
  reasoning?: string[];
  /** default {input: 12, output: number of output chunks (reasoning + chunks)} */
  usage?: Usage;
  /** 'auto' (default): usage-only final chunk and "usage":null on every other chunk exactly when the request has stream_options.include_usage === true. 'always' | 'never' force it. */
  includeUsage?: 'auto' | 'always' | 'never';
  /** default 'stop' (or 'tool_calls' with toolCall); sent on a final chunk with empty delta */
  finishReason?: string;
  /** send `data: [DONE]` at the end (default true) */
  sendDone?: boolean;
  /** after this many output chunks, send an in-stream error event `data: {"error":{...}}` and end the response */
  errorAfter?: { chunks: number; code?: string; message?: string; type?: string };
  /** reject requests that carry stream_options (HTTP 400 at headersMs, OpenAI-style error body mentioning stream_options) */
  rejectStreamOptions?: boolean;
}

export interface ResponsesStreamScript extends StreamTiming {
  kind: 'responses-stream';
  model?: string;
  chunks?: string[];
  usage?: Usage;
  /** the terminal event type (default 'completed'); 'failed' carries response.error {code, message}, no done events and usage null */
  terminal?: 'completed' | 'incomplete' | 'failed';
  /** for 'failed', default 'server_error' */
  errorCode?: string;
  /** after this many output chunks send an `event: error` (data {"type":"error","code":..,"message":..}) and end */
  errorAfter?: { chunks: number; code?: string; message?: string };
}

export interface JsonScript {
  kind: 'json';
  /** default 200 */
  status?: number;
  /** e.g. {'retry-after': '0'}, {'x-should-retry': 'false'} */
  headers?: Record<string, string>;
  /** before headers+body */
  delayMs?: number;
  /**
   * default: a body for the endpoint (chat.completion, Responses `response`, embeddings list, text_completion,
   * an Anthropic `message` on /v1/messages, a Gemini GenerateContentResponse on `:generateContent`), or, when
   * status >= 400, the error shape of that protocol (OpenAI, Anthropic `{type:'error',error:{type,message}}`,
   * Google `{error:{code,message,status}}`); a string is sent verbatim
   */
  body?: unknown;
  /** response model (Gemini: `modelVersion`, default the model of the path) */
  model?: string;
  content?: string;
  /**
   * `input` is the whole prompt, cached part included, in every protocol: Anthropic gets
   * input_tokens = input - cachedInput and cache_read_input_tokens = cachedInput; Gemini gets
   * promptTokenCount = input and cachedContentTokenCount = cachedInput (a subset).
   */
  usage?: Usage;
  /** Anthropic or Gemini only: wire fields merged over the body's `usage` / `usageMetadata` (e.g. {cache_creation_input_tokens: 5}, {thoughtsTokenCount: 40}) */
  providerUsage?: Record<string, unknown>;
}

export interface RawSseScript {
  kind: 'raw-sse';
  /** default 200 */
  status?: number;
  /** default content-type text/event-stream */
  headers?: Record<string, string>;
  /** ms from arrival to the headers (default 0) */
  headersMs?: number;
  /** the exact body: each element is written with its own res.write() at atMs after request arrival; `output` marks it for `timeline().firstOutputAt` */
  writes: Array<{ atMs: number; data: string | Uint8Array; output?: boolean }>;
  /** end normally after the last write (default), or 'destroy' the socket, or 'hang' */
  end?: 'end' | 'destroy' | 'hang';
  /** ms after arrival at which to end/destroy (default: with the last write) */
  endMs?: number;
}

export type ScriptSource = Script | ((req: RecordedRequest, index: number) => Script);

export interface Timeline {
  headersAt?: number;
  events: number[];
  firstOutputAt?: number;
  endAt?: number;
}

export interface ScriptedServer {
  /** 'http://127.0.0.1:PORT/v1' : pass as `baseURL` to `new OpenAI({ baseURL, apiKey: 'test' })` */
  readonly baseURL: string;
  /**
   * 'http://127.0.0.1:PORT': `new Anthropic({ baseURL: origin })`, `new GoogleGenAI({ httpOptions: { baseUrl: origin } })`;
   * `${origin}/v1` for `createAnthropic`, `${origin}/v1beta` for `createGoogleGenerativeAI`
   */
  readonly origin: string;
  readonly port: number;
  /** every request received, in order (recorded once its body has been read) */
  readonly requests: RecordedRequest[];
  /** queue scripts: each request takes the next queued script; when the queue is empty the fallback is used */
  enqueue(...scripts: ScriptSource[]): void;
  /**
   * the script used when the queue is empty (default, by path: streaming /responses -> responses-stream,
   * streaming /messages -> anthropic-stream, `:streamGenerateContent` -> gemini-stream, other streaming
   * requests -> chat-stream, anything else -> json)
   */
  setFallback(script: ScriptSource): void;
  /** performance.now() timestamps of the writes of the request with this index; `firstOutputAt` = the write of the first output-carrying event; `endAt` = res.end() or destroy by the server */
  timeline(index: number): Timeline;
  /** resets queue, fallback, recorded requests and timelines */
  reset(): void;
  /** closes every open connection (also hanging/stalled ones) and the server */
  close(): Promise<void>;
}

