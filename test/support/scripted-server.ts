/**
 * A scripted, loopback HTTP server for tests and demos that speaks the OpenAI protocols
 * (chat completions, Responses, embeddings), Anthropic Messages and Gemini generateContent.
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
import { defaultScriptFor, jsonReplyFor, planFor } from './scripted-server-routes.ts';
import type { JsonReply, StreamPlan } from './scripted-server-sse.ts';
import type { RecordedRequest, Script, ScriptSource, ScriptedServer, Timeline } from './scripted-server-types.ts';

export type * from './scripted-server-types.ts';

const defaultFallback = defaultScriptFor;

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
      return jsonActions(ex, jsonReplyFor(script, rec), script.delayMs ?? 0);
    default: {
      const plan = planFor(script, rec);
      return 'events' in plan ? streamActions(ex, plan) : jsonActions(ex, plan, script.headersMs ?? 0);
    }
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
        query: q === -1 ? '' : url.slice(q + 1),
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
    origin: `http://127.0.0.1:${port}`,
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
