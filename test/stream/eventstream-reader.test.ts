import { createAmazonBedrock } from '@ai-sdk/amazon-bedrock';
import { createAmazonBedrockAnthropic } from '@ai-sdk/amazon-bedrock/anthropic';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { streamText } from 'ai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { meteredFetch } from '../../src/index.js';
import type { MessageReader, StreamMessage } from '../../src/protocols/protocol.js';
import { RequestRecord } from '../../src/record.js';
import { createEventStreamReader } from '../../src/stream/eventstream-reader.js';
import { RecordSink } from '../../src/stream/record-sink.js';
import { outcomes } from '../robustness/support.ts';
import { type EventStreamServer, type FixtureLine, encodeLine, fixtureLines, startEventStreamServer } from '../support/eventstream-server.ts';
import { collectUntil, createTestMeter } from '../support/metrics.ts';

/*
 * The binary event stream reader: on its own (pass-through, timing, ends), and through
 * meteredFetch() under the real @ai-sdk/amazon-bedrock over real HTTP on 127.0.0.1 (Converse, and
 * Claude's InvokeModel stream through its Anthropic provider).
 */

function reader() {
  const record = new RequestRecord({}, true, 0, { requestFinished: () => undefined });
  const sink = new RecordSink(record, (code) => code);
  const read: StreamMessage[] = [];
  let ended = 0;
  const messages: MessageReader = {
    read: (m) => {
      read.push({ headers: { ...m.headers }, payload: m.payload.slice() });
      if (m.headers[':event-type'] === 'contentBlockDelta') sink.output();
    },
    end: () => void ended++,
  };
  return { record, sink, read, ended: () => ended, body: createEventStreamReader(record, messages, sink) };
}

const frames = (name: string) => fixtureLines(name).map((line, i) => encodeLine(line, i));

describe('createEventStreamReader', () => {
  it("hands the app each chunk itself, decodes across any split, stamps the first event message's arrival", () => {
    const { record, read, body, ended } = reader();
    const bytes = Buffer.concat(frames('converse/text'));
    const exception = encodeLine({ exception: 'throttlingException', payload: {} } as FixtureLine);
    const first = exception.byteLength + 5;
    const startEnd = exception.byteLength + frames('converse/text')[0]!.byteLength;
    const all = Buffer.concat([exception, bytes]);
    // An exception message is no chunk; the first event (messageStart) completes in the third piece.
    for (const [at, piece] of [all.subarray(0, 3), all.subarray(3, first), all.subarray(first, startEnd), all.subarray(startEnd)].entries()) {
      expect(body.push(piece, 10 + at)).toBe(piece);
    }
    expect(record.firstChunkAt).toBe(12);
    expect(record.firstOutputAt).toBe(13);
    expect(read.map((m) => m.headers[':event-type'] ?? m.headers[':exception-type'])).toEqual(['throttlingException', ...fixtureLines('converse/text').map((l) => (l as { event: string }).event)]);
    expect(body.end(20)).toBeNull();
    expect(ended()).toBe(1);
    expect(body.errorType).toBeUndefined();
  });

  it('ends a stream cut in the middle of a message, or at a corrupt frame, as stream_interrupted', () => {
    const cut = reader();
    const bytes = Buffer.concat(frames('converse/text'));
    cut.body.push(bytes.subarray(0, bytes.length - 10), 1);
    cut.body.end(2);
    expect(cut.body.errorType).toBe('stream_interrupted');
    const corrupt = reader();
    const bad = Buffer.from(bytes);
    bad[bad.length - 1]! ^= 1;
    expect(corrupt.body.push(bad, 1)).toBe(bad);
    expect(corrupt.body.errorType).toBe('stream_interrupted');
    expect(corrupt.read).toHaveLength(fixtureLines('converse/text').length - 1);
  });

  it('costs linear time in the bytes: a 16 MB message in 1 KiB pieces is read at once', () => {
    const codec = new EventStreamCodec(toUtf8, fromUtf8);
    const big = codec.encode({ headers: { ':event-type': { type: 'string', value: 'chunk' } }, body: new Uint8Array(16 * 1024 * 1024 - 100) });
    const { body, read } = reader();
    const started = performance.now();
    for (let at = 0; at < big.byteLength; at += 1024) body.push(big.subarray(at, at + 1024), 0);
    // Re-joining the message on every piece would copy 128 GB; a linear reader copies 16 MB once.
    expect(performance.now() - started).toBeLessThan(2000);
    expect(read).toHaveLength(1);
  });
});

describe("the Vercel AI SDK's Amazon Bedrock providers under meteredFetch()", () => {
  let server: EventStreamServer;
  let meter = createTestMeter();
  beforeAll(async () => {
    server = await startEventStreamServer();
  });
  afterEach(async () => {
    server.reset();
    await meter.shutdown();
    meter = createTestMeter();
  });
  afterAll(() => server.close());

  const ms = (s: number) => s * 1000;
  const PROFILE = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
  const finished = () => collectUntil(meter, (s) => s.sum('inferometer.requests') >= 1);
  const bedrock = (fetch?: typeof globalThis.fetch) => createAmazonBedrock({ region: 'us-east-1', baseURL: server.origin, accessKeyId: 'x', secretAccessKey: 'y', fetch });
  const metered = () => meteredFetch({ meterProvider: meter.meterProvider, workload: 'chat' });

  /** Members of stream parts that differ from run to run: ids, timestamps, the Date header, the AI SDK's own timings. */
  const VARIES = /^(id|timestamp|date|responseId|avg|max|min|median|p\d+)$|Ms$|PerSecond$/;

  /** What the app got from streamText: every stream part (ids and timings aside). */
  async function parts(fetch?: typeof globalThis.fetch, model = bedrock(fetch)(PROFILE)): Promise<unknown[]> {
    const result = streamText({ model, prompt: 'Say hello', maxRetries: 0, onError: () => undefined });
    const out: unknown[] = [];
    try {
      for await (const part of result.fullStream) out.push(JSON.parse(JSON.stringify(part, (k, v) => (VARIES.test(k) ? undefined : v))));
    } catch (error) {
      out.push({ thrown: (error as Error).name, message: (error as Error).message });
    }
    return out;
  }

  it("meters streamText over ConverseStream: the first token against the server's writes, usage, Bedrock's latencyMs", async () => {
    const script = { kind: 'eventstream' as const, lines: fixtureLines('converse/reasoning-cached'), firstMs: 0, gapMs: [80, 10, 10, 10, 10, 10, 10, 10, 10, 10] };
    server.enqueue(script, script);
    const expected = await parts();
    expect(await parts(metered())).toEqual(expected);
    const s = await finished();
    const exchange = server.exchanges[1]!;
    const ttft = ms(s.histogram('inferometer.time_to_first_token').sum);
    expect(ttft).toBeGreaterThanOrEqual(exchange.firstOutputAt! - exchange.receivedAt - 1);
    expect(ttft).toBeLessThan(140);
    expect(s.points('inferometer.requests')[0]!.attributes).toMatchObject({ 'gen_ai.provider.name': 'aws.bedrock', 'gen_ai.request.model': PROFILE, 'inferometer.outcome': 'success' });
    expect(s.histogram('gen_ai.client.token.usage', { 'gen_ai.token.type': 'input' }).sum).toBe(51 + 1024 + 300);
    expect(s.histogram('inferometer.provider.processing_time').sum).toBeCloseTo(2.281, 6);
    expect(s.histogram('gen_ai.client.operation.time_per_output_chunk').count).toBe(3);
  });

  it("sees the AI SDK's retry of a 429 as an attempt of one request (meteredFetch links it), timed from the first", async () => {
    const script = { kind: 'eventstream' as const, lines: fixtureLines('converse/text'), firstMs: 0, gapMs: 5 };
    server.enqueue({ kind: 'json', status: 429, headers: { 'retry-after-ms': '30' }, body: { message: 'Too many requests, please wait before trying again.' } }, script);
    const result = streamText({ model: bedrock(metered())(PROFILE), prompt: 'Say hello', maxRetries: 2, onError: () => undefined });
    await result.text;
    const s = await finished();
    expect(s.sum('inferometer.requests')).toBe(1);
    expect(s.sum('inferometer.requests', { 'inferometer.outcome': 'success' })).toBe(1);
    expect(s.sum('inferometer.attempts')).toBe(2);
    expect(s.sum('inferometer.attempts', { 'http.response.status_code': 429 })).toBe(1);
    expect(ms(s.histogram('inferometer.time_to_first_token').sum)).toBeGreaterThanOrEqual(30);
  });

  it('records an in-stream throttlingException as its type; the app gets the same error part as without inferometer', async () => {
    const script = { kind: 'eventstream' as const, lines: fixtureLines('converse/throttled-mid-stream') };
    server.enqueue(script, script);
    const expected = await parts();
    expect(JSON.stringify(expected)).toContain('"type":"error"');
    expect(await parts(metered())).toEqual(expected);
    expect(outcomes(await finished())).toEqual({ 'error:throttlingException': 1 });
  });

  it("reads Claude's InvokeModel stream through the Anthropic provider: the response model, Bedrock's billed counts", async () => {
    const script = { kind: 'eventstream' as const, lines: fixtureLines('invoke/claude-text') };
    server.enqueue(script, script);
    const anthropic = (fetch?: typeof globalThis.fetch) => createAmazonBedrockAnthropic({ region: 'us-east-1', baseURL: server.origin, accessKeyId: 'x', secretAccessKey: 'y', fetch })(PROFILE);
    const expected = await parts(undefined, anthropic());
    expect(await parts(undefined, anthropic(metered()))).toEqual(expected);
    const s = await finished();
    expect(server.exchanges[1]!.path).toContain('/invoke-with-response-stream');
    expect(s.points('inferometer.requests')[0]!.attributes).toMatchObject({ 'gen_ai.operation.name': 'chat', 'gen_ai.response.model': 'claude-sonnet-4-5-20250929', 'inferometer.outcome': 'success' });
    expect(s.histogram('gen_ai.client.token.usage', { 'gen_ai.token.type': 'output' }).sum).toBe(12);
    expect(s.histogram('inferometer.provider.processing_time').sum).toBeCloseTo(0.893, 6);
  });

  it('records a corrupt frame as stream_interrupted; the app gets what it gets without inferometer', async () => {
    const script = { kind: 'eventstream' as const, lines: fixtureLines('converse/text'), corrupt: { index: 2, flipByte: 20 } };
    server.enqueue(script, script);
    const expected = await parts();
    expect(JSON.stringify(expected)).toContain('checksum');
    expect(await parts(metered())).toEqual(expected);
    expect(outcomes(await finished())).toEqual({ 'error:stream_interrupted': 1 });
  });
});
