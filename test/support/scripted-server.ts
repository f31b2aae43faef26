/**
 * A scripted, loopback OpenAI-compatible HTTP server for tests and demos.
 *
 * Each request takes a script that fixes its behaviour exactly: when the headers go out,
 * when each SSE event is written (one `res.write()` per event unless `batch` says
 * otherwise), the usage it reports, and how it fails (HTTP error, in-stream error,
 * mid-stream disconnect, stall, connection reset, hang). Due times are measured from the
 * request's arrival with `performance.now()`, so timer drift does not accumulate, and
 * `timeline(i)` reports when each write really happened.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { buildJsonReply, endpointOf, isStreamingRequest, planChatStream, planRawSse, planResponsesStream } from './scripted-server-sse.ts';
import type { JsonReply, StreamPlan } from './scripted-server-sse.ts';

export interface RecordedRequest {
  method: string;
  /** path without query string, e.g. '/v1/chat/completions' */
  path: string;
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
  /** default: a body for the endpoint (chat.completion, Responses `response`, embeddings list, text_completion) or OpenAI's error shape when status >= 400; a string is sent verbatim */
  body?: unknown;
  model?: string;
  content?: string;
  usage?: Usage;
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
  readonly port: number;
  /** every request received, in order (recorded once its body has been read) */
  readonly requests: RecordedRequest[];
  /** queue scripts: each request takes the next queued script; when the queue is empty the fallback is used */
  enqueue(...scripts: ScriptSource[]): void;
  /** the script used when the queue is empty (default: chat-stream for streaming requests, responses-stream for streaming requests to /responses, else json) */
  setFallback(script: ScriptSource): void;
  /** performance.now() timestamps of the writes of the request with this index; `firstOutputAt` = the write of the first output-carrying event; `endAt` = res.end() or destroy by the server */
  timeline(index: number): Timeline;
  /** resets queue, fallback, recorded requests and timelines */
  reset(): void;
  /** closes every open connection (also hanging/stalled ones) and the server */
  close(): Promise<void>;
}

const defaultFallback = (req: RecordedRequest): Script =>
  !isStreamingRequest(req)
    ? { kind: 'json' }
    : endpointOf(req.path) === 'responses'
      ? { kind: 'responses-stream' }
      : { kind: 'chat-stream' };

/** A request in flight: its scheduler state, cancelled when the connection closes. */
interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  receivedAt: number;
  timeline: Timeline;
  done: boolean;
  cancelTimer?: () => void;
}
type Action = { dueMs: number; run: () => void };

/**
 * Runs the actions in order, each at receivedAt + dueMs (never earlier): a setTimeout for
 * the whole ms, then setImmediate for the sub-ms remainder, re-measured on every wake-up.
 */
function schedule(ex: Exchange, actions: Action[]): void {
  let i = 0;
  const tick = (): void => {
    ex.cancelTimer = undefined;
    while (!ex.done && i < actions.length) {
      const action = actions[i]!;
      const remaining = ex.receivedAt + action.dueMs - performance.now();
      if (remaining > 0) {
        if (remaining >= 1) {
          const t = setTimeout(tick, Math.floor(remaining));
          ex.cancelTimer = () => clearTimeout(t);
        } else {
          const t = setImmediate(tick);
          ex.cancelTimer = () => clearImmediate(t);
        }
        return;
      }
      i++;
      action.run();
    }
  };
  tick();
}

function finish(ex: Exchange, how: 'end' | 'destroy' | 'reset', body?: string): void {
  if (ex.done) return;
  ex.timeline.endAt = performance.now();
  ex.done = true;
  if (how === 'end') ex.res.end(body);
  else if (how === 'destroy') {
    // Let the bytes already written reach the client, then drop the connection mid-body
    // (no terminal chunk): end() flushes and sends FIN, destroy() follows once flushed.
    const socket = ex.res.socket;
    if (socket) socket.end(() => socket.destroy());
    else ex.res.destroy();
  }
  else ex.req.socket.resetAndDestroy();
}

function writeHead(ex: Exchange, status: number, headers: Record<string, string>): void {
  if (ex.done || ex.res.headersSent) return;
  ex.res.writeHead(status, headers);
  ex.res.flushHeaders();
  ex.timeline.headersAt = performance.now();
}

function jsonActions(ex: Exchange, reply: JsonReply, delayMs: number): Action[] {
  return [{
    dueMs: delayMs,
    run: () => {
      writeHead(ex, reply.status, { ...reply.headers, 'content-length': String(Buffer.byteLength(reply.body)) });
      finish(ex, 'end', reply.body);
    },
  }];
}

function streamActions(ex: Exchange, plan: StreamPlan): Action[] {
  const actions: Action[] = [{ dueMs: plan.headersMs, run: () => writeHead(ex, plan.status, plan.headers) }];
  const batch = Math.max(1, Math.floor(plan.batch));
  let lastDue = plan.headersMs;
  for (let start = 0; start < plan.events.length; start += batch) {
    const group = plan.events.slice(start, start + batch);
    // A batch goes out when its last event is due; due times never go backwards.
    lastDue = Math.max(lastDue, ...group.map((e) => e.atMs));
    actions.push({
      dueMs: lastDue,
      run: () => {
        const data = group.length === 1 ? group[0]!.data : Buffer.concat(group.map((e) => Buffer.from(e.data)));
        ex.res.write(data);
        const at = performance.now();
        for (const e of group) {
          ex.timeline.events.push(at);
          if (e.output && ex.timeline.firstOutputAt === undefined) ex.timeline.firstOutputAt = at;
        }
      },
    });
  }
  const endDue = Math.max(lastDue, plan.endMs ?? 0);
  if (plan.end !== 'hang') actions.push({ dueMs: endDue, run: () => finish(ex, plan.end === 'end' ? 'end' : 'destroy') });
  return actions;
}

function actionsFor(ex: Exchange, script: Script, rec: RecordedRequest): Action[] {
  switch (script.kind) {
    case 'reset':
      return [{ dueMs: script.afterMs ?? 0, run: () => finish(ex, 'reset') }];
    case 'hang':
      return [];
    case 'json':
      return jsonActions(ex, buildJsonReply(script, rec), script.delayMs ?? 0);
    case 'chat-stream': {
      const plan = planChatStream(script, rec);
      return 'events' in plan ? streamActions(ex, plan) : jsonActions(ex, plan, script.headersMs ?? 0);
    }
    case 'responses-stream':
      return streamActions(ex, planResponsesStream(script));
    case 'raw-sse':
      return streamActions(ex, planRawSse(script));
  }
}

function recordHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function parseBody(raw: string): unknown {
  if (raw === '') return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

export async function startScriptedServer(options: { port?: number } = {}): Promise<ScriptedServer> {
  const requests: RecordedRequest[] = [];
  let queue: ScriptSource[] = [];
  let fallback: ScriptSource = defaultFallback;
  let timelines = new Map<number, Timeline>();
  const sockets = new Set<Socket>();
  const exchanges = new Set<Exchange>();
  let closing = false;

  const server = createServer((req, res) => {
    const receivedAt = performance.now();
    const ex: Exchange = { req, res, receivedAt, timeline: { events: [] }, done: false };
    exchanges.add(ex);
    res.on('close', () => {
      // Finished, or the client went away: no write may follow.
      ex.done = true;
      ex.cancelTimer?.();
      exchanges.delete(ex);
    });
    res.on('error', () => {});
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('error', () => {});
    req.on('end', () => {
      if (ex.done || closing) return;
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const rec: RecordedRequest = {
        method: req.method ?? 'GET',
        path: q === -1 ? url : url.slice(0, q),
        headers: recordHeaders(req),
        body: parseBody(Buffer.concat(parts).toString('utf8')),
        receivedAt,
      };
      const index = requests.push(rec) - 1;
      timelines.set(index, ex.timeline);
      const source = queue.length > 0 ? queue.shift()! : fallback;
      let script: Script;
      try {
        script = typeof source === 'function' ? source(rec, index) : source;
      } catch (err) {
        script = { kind: 'json', status: 500, body: { error: { message: `script threw: ${String(err)}`, type: 'server_error', param: null, code: 'script_error' } } };
      }
      schedule(ex, actionsFor(ex, script, rec));
    });
  });
  server.on('connection', (socket: Socket) => {
    socket.setNoDelay(true);
    socket.on('error', () => {});
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('clientError', (_err, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;

  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    port,
    requests,
    enqueue: (...scripts) => {
      queue.push(...scripts);
    },
    setFallback: (script) => {
      fallback = script;
    },
    timeline: (index) => {
      const t = timelines.get(index);
      if (!t) throw new Error(`scripted server: no request with index ${index} (received ${requests.length})`);
      return t;
    },
    reset: () => {
      queue = [];
      fallback = defaultFallback;
      requests.length = 0;
      timelines = new Map();
    },
    close: async () => {
      closing = true;
      for (const ex of exchanges) {
        ex.done = true;
        ex.cancelTimer?.();
      }
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
