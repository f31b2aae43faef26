/**
 * Helpers of the robustness suites: a loopback server that writes exact bytes (each write its own
 * network chunk), what an app sees of a stream, metric deltas, and garbage collection on demand.
 */
import { DiagLogLevel, diag } from '@opentelemetry/api';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import OpenAI from 'openai';
import { afterAll, beforeAll } from 'vitest';
import type { Snapshot } from '../support/metrics.ts';

export interface ByteRequest {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** parsed JSON body (or the raw text) */
  body: unknown;
}

export interface ByteReply {
  /** default 200 */
  status?: number;
  /** default `content-type: text/event-stream` */
  headers?: Record<string, string>;
  /** ms before the status line and headers go out (default 0) */
  headersDelayMs?: number;
  /** the exact body: each element is one res.write(), the next one only after the event loop has turned twice */
  writes: Array<string | Uint8Array>;
  /** ms to wait between writes instead of two event-loop turns */
  pauseMs?: number;
  /**
   * after the last write: `end` the response (default), `destroy` the connection with a FIN once the
   * bytes are flushed (no terminating chunk), `reset` it with an RST, or `hang` (keep it open, silent)
   */
  end?: 'end' | 'destroy' | 'reset' | 'hang';
  /** ms between the last write and the end (default 0) */
  endDelayMs?: number;
}

export interface ByteServer {
  readonly baseURL: string;
  /** every request received, in order */
  readonly requests: ByteRequest[];
  /** how the next requests are answered */
  handle(handler: (req: ByteRequest, index: number) => ByteReply): void;
  /** connections open on the server side right now */
  connections(): Promise<number>;
  close(): Promise<void>;
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A minimal loopback HTTP server that answers each request with exact bytes, one `res.write()`
 * per element of `writes`, separated by event-loop turns so that the client (in this process) reads
 * them as separate network chunks most of the time. Much faster than a timed script: a 10-write
 * response takes well under a millisecond.
 */
export async function startByteServer(): Promise<ByteServer> {
  const requests: ByteRequest[] = [];
  const sockets = new Set<Socket>();
  let handler: (req: ByteRequest, index: number) => ByteReply = () => ({ status: 404, headers: { 'content-type': 'text/plain' }, writes: ['no handler'] });

  const answer = async (res: ServerResponse, reply: ByteReply): Promise<void> => {
    if (reply.headersDelayMs !== undefined) await sleep(reply.headersDelayMs);
    if (res.destroyed) return;
    res.writeHead(reply.status ?? 200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...reply.headers });
    res.flushHeaders();
    for (const [i, piece] of reply.writes.entries()) {
      if (res.destroyed) return;
      if (i > 0) {
        if (reply.pauseMs !== undefined) await sleep(reply.pauseMs);
        else {
          await turn();
          await turn();
        }
      }
      if (res.destroyed) return;
      res.write(piece);
    }
    if (reply.endDelayMs !== undefined) await sleep(reply.endDelayMs);
    if (res.destroyed) return;
    const end = reply.end ?? 'end';
    if (end === 'end') res.end();
    else if (end === 'destroy') {
      const socket = res.socket;
      if (socket) socket.end(() => socket.destroy());
      else res.destroy();
    } else if (end === 'reset') res.socket?.resetAndDestroy();
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const parts: Buffer[] = [];
    res.on('error', () => {});
    req.on('error', () => {});
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => {
      const raw = Buffer.concat(parts).toString('utf8');
      let body: unknown = raw;
      try {
        body = JSON.parse(raw);
      } catch {
        // not JSON: keep the text
      }
      const rec: ByteRequest = { path: (req.url ?? '/').split('?')[0]!, headers: { ...req.headers }, body };
      const index = requests.push(rec) - 1;
      let reply: ByteReply;
      try {
        reply = handler(rec, index);
      } catch (error) {
        reply = { status: 500, headers: { 'content-type': 'text/plain' }, writes: [`handler threw: ${String(error)}`] };
      }
      void answer(res, reply);
    });
  });
  server.on('connection', (socket: Socket) => {
    socket.setNoDelay(true);
    socket.on('error', () => {});
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as { port: number };
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    handle(next) {
      handler = next;
    },
    connections: () => new Promise((resolve, reject) => server.getConnections((error, n) => (error ? reject(error) : resolve(n)))),
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

/** A bare openai client that logs nothing (malformed events make the SDK log to the console). */
export function quietClient(baseURL: string, options: ConstructorParameters<typeof OpenAI>[0] = {}): OpenAI {
  return new OpenAI({ baseURL, apiKey: 'test-key', maxRetries: 0, logLevel: 'off', ...options });
}

/** What an app sees of a stream: every item it yields, then how it ended. */
export interface AppView {
  items: unknown[];
  /** class and message of what the loop threw; undefined if it ended normally */
  error: { class: string; message: string; status?: unknown; code?: unknown; type?: unknown } | undefined;
}

/**
 * Runs `create()` and iterates what it returns to the end, recording everything the app sees. A
 * stream that neither yields nor ends for `hangMs` is aborted (through the signal given to
 * `create`) and reported as the error `Hang`, so that a hang fails a comparison instead of a test.
 */
export async function appView(create: (signal: AbortSignal) => Promise<AsyncIterable<unknown>>, hangMs = 1000): Promise<AppView> {
  const items: unknown[] = [];
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const watchdog = () => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(new Error('hang')), hangMs);
  };
  try {
    watchdog();
    for await (const item of await create(controller.signal)) {
      items.push(item);
      watchdog();
    }
    return { items, error: controller.signal.aborted ? HANG(hangMs) : undefined };
  } catch (error) {
    return { items, error: controller.signal.aborted ? HANG(hangMs) : describeError(error) };
  } finally {
    clearTimeout(timer);
  }
}

const HANG = (ms: number) => ({ class: 'Hang', message: `the stream neither yielded nor ended for ${ms} ms` });

export function describeError(error: unknown): AppView['error'] {
  if (!(error instanceof Error)) return { class: typeof error, message: String(error) };
  const out: NonNullable<AppView['error']> = { class: error.constructor.name, message: error.message };
  for (const key of ['status', 'code', 'type'] as const) {
    const value = (error as unknown as Record<string, unknown>)[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

/** Polls `collect()` until `predicate` holds, turning the event loop in between (fast: no 5 ms sleeps). */
export async function until(collect: () => Promise<Snapshot>, predicate: (s: Snapshot) => boolean, timeoutMs = 2000): Promise<Snapshot> {
  const deadline = performance.now() + timeoutMs;
  for (let i = 0; ; i++) {
    const snapshot = await collect();
    if (predicate(snapshot) || performance.now() > deadline) return snapshot;
    if (i < 20) await turn();
    else await sleep(2);
  }
}

let gcFunction: (() => void) | undefined;

/**
 * A full garbage collection, in the vitest worker itself: `--expose-gc` set at run time and the `gc`
 * function taken from a fresh context (V8 installs it on contexts created after the flag is set).
 */
export function gc(): void {
  if (gcFunction === undefined) {
    v8.setFlagsFromString('--expose-gc');
    gcFunction = vm.runInNewContext('gc') as () => void;
  }
  gcFunction();
}

/** Collects garbage several times, giving FinalizationRegistry callbacks (separate tasks) time to run. */
export async function collectGarbage(rounds = 6): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    gc();
    await sleep(10);
  }
}

/** Runs `fn(i)` for i = 0 … n-1, at most `concurrency` at a time. */
export async function pool(n: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(n, concurrency) }, worker));
}

/** Runs `fn` and returns what it threw (undefined if nothing). */
export async function thrown(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
    return undefined;
  } catch (error) {
    return error;
  }
}

/** Counts by outcome and error.type of `inferometer.requests`, e.g. `{ 'success': 1, 'error:429': 2 }`. */
export function outcomes(s: Snapshot): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of s.points('inferometer.requests')) {
    const key = p.attributes['inferometer.outcome'] === 'error' ? `error:${String(p.attributes['error.type'])}` : String(p.attributes['inferometer.outcome']);
    out[key] = (out[key] ?? 0) + (p.value as number);
  }
  return out;
}

/** `a - b` per key, leaving out zeros. */
export function minus(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const d = (a[key] ?? 0) - (b[key] ?? 0);
    if (d !== 0) out[key] = d;
  }
  return out;
}

/** The figures of a snapshot the equivalence property checks per case (cumulative; take differences). */
export function figures(s: Snapshot): Record<string, number> {
  const f: Record<string, number> = {};
  for (const [key, n] of Object.entries(outcomes(s))) f[`requests ${key}`] = n;
  f['active'] = s.sum('inferometer.requests.active');
  f['chunk gaps'] = s.histogram('gen_ai.client.operation.time_per_output_chunk').count;
  f['ttft'] = s.histogram('inferometer.time_to_first_token').count;
  for (const estimated of [false, true]) {
    for (const type of ['input', 'output']) {
      const points = s.points('gen_ai.client.token.usage', { 'gen_ai.token.type': type }).filter((p) => (p.attributes['inferometer.estimated'] === true) === estimated);
      const h = points.reduce((acc, p) => {
        const v = p.value as { count: number; sum?: number };
        return { count: acc.count + v.count, sum: acc.sum + (v.sum ?? 0) };
      }, { count: 0, sum: 0 });
      const name = `${type}${estimated ? ' estimated' : ''}`;
      f[`${name} tokens`] = h.sum;
      f[`${name} records`] = h.count;
    }
  }
  return f;
}

/**
 * Whether this runtime's fetch closes the connection at once when a body with data still to come
 * is cancelled. Node 24's undici does; Node 22's keeps the socket open for a while, with or
 * without inferometer, so tests of released connections hold the bare SDK as their yardstick there.
 */
export async function cancelClosesConnections(): Promise<boolean> {
  const { createServer } = await import('node:http');
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: a\n\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  try {
    const reader = (await fetch(`http://127.0.0.1:${port}/`)).body!.getReader();
    await reader.read();
    await reader.cancel();
    await sleep(200);
    return await new Promise<boolean>((resolve) => server.getConnections((_e, n) => resolve(n === 0)));
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

/**
 * Everything inferometer logs through OTel `diag` while a test file runs (all levels), so the
 * file can assert on it: a warning was given once, no prompt or key ever appears.
 */
export function captureDiag(): string[] {
  const logs: string[] = [];
  beforeAll(() => {
    const log = (...args: unknown[]) => logs.push(args.map(String).join(' '));
    diag.setLogger({ error: log, warn: log, info: log, debug: log, verbose: log }, DiagLogLevel.ALL);
  });
  afterAll(() => diag.disable());
  return logs;
}
