import {
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  type ConverseStreamCommandOutput,
  InvokeModelWithResponseStreamCommand,
  ThrottlingException,
} from '@aws-sdk/client-bedrock-runtime';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { FetchHttpHandler } from '@smithy/fetch-http-handler';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { instrument, withWorkload } from '../src/index.js';
import { outcomes } from './robustness/support.ts';
import { type EventStreamServer, fixtureLines, startEventStreamServer } from './support/eventstream-server.ts';
import { collectUntil, createTestMeter } from './support/metrics.ts';

/*
 * instrument(new BedrockRuntimeClient()) over real HTTP/2 on 127.0.0.1, with the real AWS SDK:
 * what is measured, and that the app sees what it sees without inferometer.
 */

let server: EventStreamServer;
let meter = createTestMeter();
beforeAll(async () => {
  server = await startEventStreamServer();
  // Warm up the SDK (module loading, the first HTTP/2 session) so that the first timed test measures the server.
  server.enqueue({ kind: 'eventstream', lines: fixtureLines('converse/text') });
  await drain(await bare().send(converseStream()));
});
afterEach(async () => {
  server.reset();
  await meter.shutdown();
  meter = createTestMeter();
});
afterAll(() => server.close());

const ms = (s: number) => s * 1000;
const PROFILE = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const ASK = { modelId: PROFILE, messages: [{ role: 'user' as const, content: [{ text: 'Say hello' }] }] };
const converseStream = () => new ConverseStreamCommand(ASK);

function bare(options: Partial<ConstructorParameters<typeof BedrockRuntimeClient>[0]> = {}): BedrockRuntimeClient {
  return new BedrockRuntimeClient({ region: 'us-east-1', endpoint: server.origin, credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, maxAttempts: 1, ...options });
}
const metered = (options: Partial<ConstructorParameters<typeof BedrockRuntimeClient>[0]> = {}) =>
  instrument(bare(options), { meterProvider: meter.meterProvider, workload: 'agent' });
const finished = (n = 1) => collectUntil(meter, (s) => s.sum('inferometer.requests') >= n);

async function drain(output: { stream?: AsyncIterable<unknown> }): Promise<unknown[]> {
  const events: unknown[] = [];
  for await (const event of output.stream!) events.push(event);
  return events;
}

/** What the app got: the events, or the error's class and message. */
async function seen(client: BedrockRuntimeClient, command: ConverseStreamCommand | InvokeModelWithResponseStreamCommand): Promise<unknown> {
  const events: unknown[] = [];
  try {
    const output = (await client.send(command as ConverseStreamCommand)) as ConverseStreamCommandOutput;
    for await (const event of output.stream!) events.push(event);
    return { events };
  } catch (error) {
    return { events, error: (error as Error).constructor.name, name: (error as Error).name, message: (error as Error).message };
  }
}

describe('instrument(new BedrockRuntimeClient())', () => {
  it('returns a metered copy of the same class; the original stays unmetered', async () => {
    const client = bare();
    const copy = instrument(client, { meterProvider: meter.meterProvider });
    expect(copy).toBeInstanceOf(BedrockRuntimeClient);
    expect(copy).not.toBe(client);
    server.enqueue({ kind: 'eventstream', lines: fixtureLines('converse/text') }, { kind: 'eventstream', lines: fixtureLines('converse/text') });
    await drain(await client.send(converseStream()));
    await drain(await copy.send(converseStream()));
    const s = await finished();
    expect(s.sum('inferometer.requests')).toBe(1);
  });

  it("times the first token from the first text delta and every gap, against the server's writes", async () => {
    server.enqueue({ kind: 'eventstream', lines: fixtureLines('converse/text'), firstMs: 0, gapMs: [120, 30, 10, 50] });
    await drain(await metered().send(converseStream()));
    const s = await finished();
    const exchange = server.exchanges[0]!;
    const ttft = ms(s.histogram('inferometer.time_to_first_token').sum);
    // The first text delta went out 120 ms after messageStart, which went out with the headers.
    expect(ttft).toBeGreaterThanOrEqual(exchange.firstOutputAt! - exchange.receivedAt - 1);
    expect(ttft).toBeGreaterThanOrEqual(118);
    expect(ttft).toBeLessThan(180);
    expect(ms(s.histogram('gen_ai.client.operation.time_to_first_chunk').sum)).toBeLessThan(60);
    const gaps = s.histogram('gen_ai.client.operation.time_per_output_chunk');
    expect(gaps.count).toBe(3);
    expect(ms(gaps.max)).toBeGreaterThanOrEqual(45);
  });

  it("records chat on aws.bedrock with the request's model id, Bedrock's usage, and its latencyMs beside ours", async () => {
    server.enqueue({ kind: 'eventstream', lines: fixtureLines('converse/reasoning-cached') });
    await drain(await metered().send(converseStream()));
    const s = await finished();
    const attrs = { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'aws.bedrock', 'gen_ai.request.model': PROFILE, 'workload.class': 'agent' };
    expect(s.sum('inferometer.requests', { ...attrs, 'inferometer.outcome': 'success' })).toBe(1);
    expect(s.points('inferometer.requests')[0]!.attributes['gen_ai.response.model']).toBeUndefined();
    expect(s.histogram('gen_ai.client.token.usage', { 'gen_ai.token.type': 'input' }).sum).toBe(51 + 1024 + 300);
    expect(s.histogram('gen_ai.client.token.usage', { 'gen_ai.token.type': 'output' }).sum).toBe(94);
    expect(s.histogram('inferometer.provider.processing_time').sum).toBeCloseTo(2.281, 6);
    // Priced as Claude Sonnet 4.5 through a US inference profile: Anthropic's prices + 10%.
    expect(s.sum('inferometer.cost')).toBeCloseTo((51 * 3.3 + 1024 * 0.33 + 300 * 4.125 + 94 * 16.5) / 1e6, 12);
  });

  it('hands the app the same events as the bare client, however the bytes are cut', async () => {
    const lines = fixtureLines('converse/tool-use');
    server.enqueue({ kind: 'eventstream', lines }, { kind: 'eventstream', lines, pieceBytes: 7 });
    const expected = await seen(bare(), converseStream());
    expect(await seen(metered(), converseStream())).toEqual(expected);
    expect((expected as { events: unknown[] }).events).toHaveLength(lines.length);
    expect(outcomes(await finished())).toEqual({ success: 1 });
  });

  it("records an in-stream throttlingException as its type, and the app gets the SDK's own error", async () => {
    const script = { kind: 'eventstream' as const, lines: fixtureLines('converse/throttled-mid-stream') };
    server.enqueue(script, script);
    const expected = await seen(bare(), converseStream());
    expect(expected).toMatchObject({ error: 'ThrottlingException', events: [{}, {}, {}] });
    expect(await seen(metered(), converseStream())).toEqual(expected);
    const s = await finished();
    expect(outcomes(s)).toEqual({ 'error:throttlingException': 1 });
    expect(s.histogram('gen_ai.client.operation.time_per_output_chunk').count).toBe(1);
  });

  it("sees the SDK's retries as attempts of one request: a 429 ThrottlingException, then a stream", async () => {
    const throttled = { kind: 'json' as const, status: 429, headers: { 'x-amzn-errortype': 'ThrottlingException' }, body: { message: 'Too many requests' }, headersMs: 0 };
    server.enqueue(throttled, { kind: 'eventstream', lines: fixtureLines('converse/text') });
    await drain(await metered({ maxAttempts: 2, retryStrategy: new ConfiguredRetryStrategy(2, () => 25) }).send(converseStream()));
    const s = await finished();
    expect(outcomes(s)).toEqual({ success: 1 });
    expect(s.sum('inferometer.attempts')).toBe(2);
    expect(s.sum('inferometer.attempts', { 'http.response.status_code': 429 })).toBe(1);
    expect(ms(s.histogram('inferometer.time_to_first_token').sum)).toBeGreaterThanOrEqual(25);
  });

  it('records throttling after the retries as one error of type 429, and the app gets ThrottlingException', async () => {
    const throttled = { kind: 'json' as const, status: 429, headers: { 'x-amzn-errortype': 'ThrottlingException' }, body: { message: 'Too many requests' } };
    server.enqueue(throttled, throttled);
    const error = await metered({ maxAttempts: 2, retryStrategy: new ConfiguredRetryStrategy(2, () => 5) }).send(converseStream()).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ThrottlingException);
    const s = await finished();
    expect(outcomes(s)).toEqual({ 'error:429': 1 });
    expect(s.sum('inferometer.attempts', { 'http.response.status_code': 429 })).toBe(2);
  });

  it("reads Claude's InvokeModel stream: Bedrock's billed counts, its invocationLatency, the response model; the app's bytes untouched", async () => {
    const lines = fixtureLines('invoke/claude-text');
    server.enqueue({ kind: 'eventstream', lines, gapMs: 5 }, { kind: 'eventstream', lines, gapMs: 5 });
    const command = () =>
      new InvokeModelWithResponseStreamCommand({ modelId: PROFILE, contentType: 'application/json', body: JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 64, messages: [{ role: 'user', content: 'Hi' }] }) });
    const expected = await seen(bare(), command());
    expect(await seen(metered(), command())).toEqual(expected);
    const s = await finished();
    const point = s.points('inferometer.requests')[0]!;
    expect(point.attributes).toMatchObject({ 'gen_ai.operation.name': 'chat', 'gen_ai.response.model': 'claude-sonnet-4-5-20250929', 'inferometer.outcome': 'success' });
    expect(s.histogram('gen_ai.client.token.usage', { 'gen_ai.token.type': 'input' }).sum).toBe(14 + 2048);
    expect(s.histogram('inferometer.provider.processing_time').sum).toBeCloseTo(0.893, 6);
    expect(s.histogram('gen_ai.client.operation.time_per_output_chunk').count).toBe(2);
  });

  it('records a non-streamed Converse with its usage, latencyMs and duration, and no time to first token', async () => {
    server.enqueue({ kind: 'json', body: { output: { message: { role: 'assistant', content: [{ text: 'Hi' }] } }, stopReason: 'end_turn', usage: { inputTokens: 12, outputTokens: 3, totalTokens: 15 }, metrics: { latencyMs: 321 } } });
    const output = await metered().send(new ConverseCommand(ASK));
    expect(output.usage?.outputTokens).toBe(3);
    const s = await finished();
    expect(outcomes(s)).toEqual({ success: 1 });
    expect(s.histogram('gen_ai.client.token.usage', { 'gen_ai.token.type': 'input' }).sum).toBe(12);
    expect(s.histogram('inferometer.provider.processing_time').sum).toBeCloseTo(0.321, 6);
    expect(s.histogram('gen_ai.client.operation.duration').count).toBe(1);
    expect(s.histogram('inferometer.time_to_first_token').count).toBe(0);
  });

  it('records a break out of the stream as cancelled, once', async () => {
    server.enqueue({ kind: 'eventstream', lines: fixtureLines('converse/text'), gapMs: 30 });
    const output = await metered().send(converseStream());
    for await (const event of output.stream!) if ('contentBlockDelta' in event) break;
    const s = await finished();
    expect(outcomes(s)).toEqual({ cancelled: 1 });
    await new Promise((r) => setTimeout(r, 100));
    expect(outcomes(await meter.collect())).toEqual({ cancelled: 1 });
  });

  it("records the app's abort mid-stream as cancelled, and the app gets the SDK's abort as without inferometer", async () => {
    const script = { kind: 'eventstream' as const, lines: fixtureLines('converse/text'), gapMs: 40 };
    server.enqueue(script, script);
    const abortAfterFirstDelta = async (client: BedrockRuntimeClient) => {
      const controller = new AbortController();
      const output = await client.send(converseStream(), { abortSignal: controller.signal });
      try {
        for await (const event of output.stream!) if ('contentBlockDelta' in event) controller.abort();
        return 'ended';
      } catch (error) {
        return (error as Error).name;
      }
    };
    const expected = await abortAfterFirstDelta(bare());
    expect(await abortAfterFirstDelta(metered())).toBe(expected);
    expect(outcomes(await finished())).toEqual({ cancelled: 1 });
  });

  it("records the app's abort before the response as cancelled; the app gets the SDK's abort as without inferometer", async () => {
    const script = { kind: 'eventstream' as const, lines: fixtureLines('converse/text'), headersMs: 300 };
    server.enqueue(script, script);
    const abortEarly = (client: BedrockRuntimeClient) => client.send(converseStream(), { abortSignal: AbortSignal.timeout(50) }).then(() => 'resolved', (e: Error) => e.name);
    const expected = await abortEarly(bare());
    expect(expected).toBe('AbortError');
    expect(await abortEarly(metered())).toBe(expected);
    const s = await finished();
    // An AbortSignal.timeout() says it is a timeout.
    expect(outcomes(s)).toEqual({ 'error:timeout': 1 });
  });

  it('records a stream the server resets mid-way as stream_interrupted; the app gets the error it gets without inferometer', async () => {
    const script = { kind: 'eventstream' as const, lines: fixtureLines('converse/text'), gapMs: 5, resetAfter: 3 };
    server.enqueue(script, script);
    const expected = await seen(bare(), converseStream());
    expect(expected).toMatchObject({ events: [{}, {}, {}] });
    expect(await seen(metered(), converseStream())).toEqual(expected);
    const s = await finished();
    expect(outcomes(s)).toEqual({ 'error:stream_interrupted': 1 });
    expect(s.histogram('gen_ai.client.token.usage', { 'gen_ai.token.type': 'output' }).sum).toBe(2); // estimated: two output chunks
  });

  it("records a corrupt frame as stream_interrupted; the app gets the SDK's checksum error as without inferometer", async () => {
    const script = { kind: 'eventstream' as const, lines: fixtureLines('converse/text'), corrupt: { index: 3, flipByte: -1 } };
    server.enqueue(script, script);
    const expected = await seen(bare(), converseStream());
    expect(expected).toMatchObject({ events: [{}, {}, {}] });
    expect(await seen(metered(), converseStream())).toEqual(expected);
    expect(outcomes(await finished())).toEqual({ 'error:stream_interrupted': 1 });
  });

  it.each([
    ['HTTP/2 (the default handler)', {}],
    ['HTTP/1.1 (NodeHttpHandler)', { requestHandler: new NodeHttpHandler() }],
  ])('reads a body that arrived whole with its headers, before the SDK handed the response over, on %s', async (_, options) => {
    server.enqueue({ kind: 'eventstream', lines: fixtureLines('converse/text'), together: true });
    const events = await drain(await metered(options).send(converseStream()));
    expect(events).toHaveLength(fixtureLines('converse/text').length);
    const s = await finished();
    expect(outcomes(s)).toEqual({ success: 1 });
    expect(s.histogram('gen_ai.client.token.usage', { 'gen_ai.token.type': 'output' }).sum).toBe(55);
    expect(s.histogram('gen_ai.client.operation.time_per_output_chunk').count).toBe(3);
  });

  it('reads a stream through a fetch-based handler (FetchHttpHandler) too', async () => {
    const lines = fixtureLines('converse/text');
    server.enqueue({ kind: 'eventstream', lines, gapMs: 5 }, { kind: 'eventstream', lines, gapMs: 5 });
    const expected = await seen(bare({ requestHandler: new FetchHttpHandler() }), converseStream());
    expect(await seen(metered({ requestHandler: new FetchHttpHandler() }), converseStream())).toEqual(expected);
    const s = await finished();
    expect(outcomes(s)).toEqual({ success: 1 });
    expect(s.histogram('gen_ai.client.token.usage', { 'gen_ai.token.type': 'output' }).sum).toBe(55);
    expect(s.histogram('inferometer.provider.processing_time').sum).toBeCloseTo(2.04, 6);
  });

  it('takes the workload class from withWorkload() around send()', async () => {
    server.enqueue({ kind: 'eventstream', lines: fixtureLines('converse/text') });
    const client = metered();
    await withWorkload('batch', async () => drain(await client.send(converseStream())));
    expect((await finished()).sum('inferometer.requests', { 'workload.class': 'batch' })).toBe(1);
  });
});
