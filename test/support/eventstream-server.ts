/**
 * A loopback server that answers like Amazon Bedrock's runtime: binary event streams
 * (`application/vnd.amazon.eventstream`) encoded by the real AWS codec (@smithy/eventstream-codec),
 * and JSON, from scripts queued per test. It speaks HTTP/1.1 (fetch, @ai-sdk/amazon-bedrock) and
 * cleartext HTTP/2 (the AWS SDK's default NodeHttp2Handler) on one port: the first bytes of a
 * connection say which. Each response keeps a timeline of when each message was written, to
 * check what inferometer measured against what the server did.
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { type IncomingMessage, type ServerResponse, createServer as createHttp1Server } from 'node:http';
import { type Http2ServerRequest, type Http2ServerResponse, constants, createServer as createHttp2Server } from 'node:http2';
import { type AddressInfo, type Socket, createServer as createNetServer } from 'node:net';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';

const codec = new EventStreamCodec(toUtf8, fromUtf8);
const FIXTURES = new URL('../fixtures/bedrock/', import.meta.url);

/**
 * One message of a fixture (one JSON line of `test/fixtures/bedrock/*.jsonl`):
 * - `{"event": "contentBlockDelta", "payload": {…}}`: a Converse event;
 * - `{"chunk": {…}}`: an InvokeModelWithResponseStream chunk, the model's own event (base64 in `bytes`);
 * - `{"exception": "throttlingException", "payload": {"message": "…"}}`: an in-stream exception.
 * Every JSON payload gets a padding member `p`, as Bedrock adds one.
 */
export type FixtureLine =
  | { readonly event: string; readonly payload: unknown }
  | { readonly chunk: unknown }
  | { readonly exception: string; readonly payload: unknown };

const str = (value: string) => ({ type: 'string' as const, value });
const PADDING = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const pad = (n: number) => PADDING.slice(0, 1 + (n % PADDING.length));

/** Encodes one fixture line as Bedrock frames it, with the real codec. */
export function encodeLine(line: FixtureLine, index = 0): Uint8Array {
  const json = (value: unknown) => fromUtf8(JSON.stringify({ ...(value as object), p: pad(index * 7) }));
  if ('chunk' in line) {
    const bytes = Buffer.from(JSON.stringify(line.chunk), 'utf8').toString('base64');
    return codec.encode({ headers: { ':event-type': str('chunk'), ':content-type': str('application/json'), ':message-type': str('event') }, body: json({ bytes }) });
  }
  if ('exception' in line) {
    return codec.encode({ headers: { ':exception-type': str(line.exception), ':content-type': str('application/json'), ':message-type': str('exception') }, body: json(line.payload) });
  }
  return codec.encode({ headers: { ':event-type': str(line.event), ':content-type': str('application/json'), ':message-type': str('event') }, body: json(line.payload) });
}

/** The lines of a fixture, e.g. `fixtureLines('converse/text')`. */
export function fixtureLines(name: string): FixtureLine[] {
  return readFileSync(new URL(`${name}.jsonl`, FIXTURES), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as FixtureLine);
}

/** A fixture's messages, encoded (one Uint8Array per message). */
export function fixtureFrames(name: string): Uint8Array[] {
  return fixtureLines(name).map(encodeLine);
}

/** Whether a fixture line carries generated output (for the timeline: when the first output was written). */
export function isOutputLine(line: FixtureLine): boolean {
  const text = JSON.stringify(line);
  return /"(text|input|generation|outputText)":"[^"]/.test(text) && !text.includes('"signature"');
}

export interface EventStreamScript {
  readonly kind: 'eventstream';
  /** The fixture lines to send, one message per write. */
  readonly lines: readonly FixtureLine[];
  /** Before the headers (ms). */
  readonly headersMs?: number;
  /** Between the headers and the first message (ms). */
  readonly firstMs?: number;
  /** Between messages (ms): one figure, or one per gap. */
  readonly gapMs?: number | readonly number[];
  /** Write each message in pieces of this many bytes (all at once, in separate writes). */
  readonly pieceBytes?: number;
  /** Replace the bytes of message `index` (a corrupt frame), or end the stream after `bytes` of it. */
  readonly corrupt?: { readonly index: number; readonly flipByte?: number; readonly cutAfter?: number };
  /** After the last message, keep the stream open (a client must end it). */
  readonly hold?: boolean;
  /** Send the headers and every message in one write, then end: the whole body arrives with the headers. */
  readonly together?: boolean;
  /** After this many messages, reset the stream (HTTP/2 RST_STREAM) or the connection (HTTP/1.1). */
  readonly resetAfter?: number;
}

export interface JsonScript {
  readonly kind: 'json';
  readonly status?: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  readonly headersMs?: number;
}

export type BedrockScript = EventStreamScript | JsonScript;

/** What the server saw and did for one request. */
export interface Exchange {
  readonly method: string;
  readonly path: string;
  readonly httpVersion: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
  /** performance.now() when the request arrived, and when each message was written. */
  readonly receivedAt: number;
  readonly writes: number[];
  /** When the first message that carries output was written. */
  firstOutputAt: number | undefined;
  /** The client went away before the response ended. */
  closedEarly: boolean;
}

export interface EventStreamServer {
  readonly origin: string;
  enqueue(...scripts: BedrockScript[]): void;
  /** What every request so far saw, in order. */
  readonly exchanges: readonly Exchange[];
  reset(): void;
  close(): Promise<void>;
}

const sleep = (ms: number) => (ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve());

type AnyRequest = IncomingMessage | Http2ServerRequest;
type AnyResponse = ServerResponse | Http2ServerResponse;

/** Starts the server on 127.0.0.1 (a free port). */
export async function startEventStreamServer(): Promise<EventStreamServer> {
  const queue: BedrockScript[] = [];
  const exchanges: Exchange[] = [];
  const sockets = new Set<Socket>();

  const handle = async (req: AnyRequest, response: AnyResponse): Promise<void> => {
    // The HTTP/2 compatibility response takes the same calls.
    const res = response as ServerResponse;
    const receivedAt = performance.now();
    let body = '';
    for await (const chunk of req) body += String(chunk);
    const exchange: Exchange = {
      method: req.method ?? '',
      path: req.url ?? '',
      httpVersion: req.httpVersion,
      headers: { ...req.headers },
      body,
      receivedAt,
      writes: [],
      firstOutputAt: undefined,
      closedEarly: false,
    };
    exchanges.push(exchange);
    let closed = false;
    res.on('close', () => {
      closed = true;
      if (!res.writableEnded) exchange.closedEarly = true;
    });
    const script = queue.shift() ?? { kind: 'json', status: 500, body: { message: 'no script queued' } };
    await sleep(script.headersMs ?? 0);
    if (script.kind === 'json') {
      const text = JSON.stringify(script.body);
      const headers: Record<string, string> = { 'content-type': 'application/json', 'x-amzn-requestid': 'req-1', ...script.headers };
      res.writeHead(script.status ?? 200, headers);
      res.end(text);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': 'req-1' });
    if (script.together === true) {
      const at = performance.now();
      res.end(Buffer.concat(script.lines.map(encodeLine)));
      exchange.writes.push(at);
      exchange.firstOutputAt = at;
      return;
    }
    // Send the headers now (a stream's headers go out before its first message).
    if (typeof res.flushHeaders === 'function') res.flushHeaders();
    await sleep(script.firstMs ?? 0);
    const gaps = script.gapMs ?? 0;
    for (const [i, line] of script.lines.entries()) {
      if (i > 0) await sleep(typeof gaps === 'number' ? gaps : (gaps[i - 1] ?? 0));
      if (closed) return;
      if (script.resetAfter === i) {
        const stream = (response as Http2ServerResponse).stream as Http2ServerResponse['stream'] | undefined;
        if (stream !== undefined) stream.close(constants.NGHTTP2_INTERNAL_ERROR);
        else res.socket?.destroy();
        return;
      }
      let frame = encodeLine(line, i);
      if (script.corrupt?.index === i) {
        frame = frame.slice();
        if (script.corrupt.flipByte !== undefined) frame[script.corrupt.flipByte < 0 ? frame.length + script.corrupt.flipByte : script.corrupt.flipByte]! ^= 0x40;
        if (script.corrupt.cutAfter !== undefined) {
          res.write(frame.subarray(0, script.corrupt.cutAfter));
          exchange.writes.push(performance.now());
          res.end();
          return;
        }
      }
      const at = performance.now();
      if (script.pieceBytes !== undefined) {
        for (let k = 0; k < frame.length; k += script.pieceBytes) res.write(frame.subarray(k, k + script.pieceBytes));
      } else {
        res.write(frame);
      }
      exchange.writes.push(at);
      if (exchange.firstOutputAt === undefined && isOutputLine(line)) exchange.firstOutputAt = at;
    }
    if (script.hold === true) return;
    res.end();
  };

  const onRequest = (req: AnyRequest, res: AnyResponse): void => {
    handle(req, res).catch(() => {
      try {
        res.end();
      } catch {
        // the client went away
      }
    });
  };
  const http1 = createHttp1Server(onRequest);
  const http2 = createHttp2Server(onRequest);
  // One port for both: an HTTP/2 client with prior knowledge opens with its connection preface.
  const net = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.once('readable', () => {
      const head: Buffer | null = socket.read();
      if (head === null) return;
      socket.unshift(head);
      (head.toString('latin1').startsWith('PRI * HTTP/2.0') ? http2 : http1).emit('connection', socket);
    });
  });
  net.listen(0, '127.0.0.1');
  await once(net, 'listening');
  const { port } = net.address() as AddressInfo;

  return {
    origin: `http://127.0.0.1:${port}`,
    enqueue: (...scripts) => void queue.push(...scripts),
    exchanges,
    reset() {
      queue.length = 0;
      exchanges.length = 0;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      http1.close();
      http2.close();
      await new Promise<void>((r) => net.close(() => r()));
    },
  };
}
