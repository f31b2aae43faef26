import { beforeAll, describe, expect, it } from 'vitest';
import {
  ATTR_ERROR_TYPE,
  ATTR_ESTIMATED,
  ATTR_OPERATION_NAME,
  ATTR_OUTCOME,
  ATTR_RESPONSE_MODEL,
  ATTR_TOKEN_TYPE,
  ERROR_STREAM,
  ERROR_STREAM_INTERRUPTED,
  METRIC_COST,
  METRIC_OPERATION_DURATION,
  METRIC_REQUESTS,
  METRIC_TIME_PER_OUTPUT_CHUNK,
  METRIC_TIME_PER_OUTPUT_TOKEN,
  METRIC_TIME_TO_FIRST_CHUNK,
  METRIC_TIME_TO_FIRST_TOKEN,
  METRIC_TOKEN_USAGE,
  OPERATION_CHAT,
} from '../src/semconv.js';
import { instrument } from '../src/index.js';
import { useHarness } from './support/harness.ts';
import { type Snapshot, createTestMeter } from './support/metrics.ts';

const h = useHarness();
const ms = (s: number) => s * 1000;
const REQUEST = { model: 'gpt-4o-mini', input: 'Say hello' };

beforeAll(async () => {
  // Warm up the connection pool, the server and inferometer's own code paths, recording to a
  // throwaway meter, so that the first measured request pays no one-off costs.
  const scratch = createTestMeter();
  const client = instrument(h.bare(), { meterProvider: scratch.meterProvider });
  for (let i = 0; i < 3; i++) for await (const _ of await client.responses.create({ ...REQUEST, stream: true }));
  await scratch.shutdown();
  h.server.reset();
});

async function consume(stream: AsyncIterable<{ type: string }>): Promise<{ types: string[]; thrown: unknown }> {
  const types: string[] = [];
  let thrown: unknown;
  try {
    for await (const event of stream) types.push(event.type);
  } catch (error) {
    thrown = error;
  }
  return { types, thrown };
}

const stream = () => h.client().responses.create({ ...REQUEST, stream: true });

const outcomes = (s: Snapshot) => ({
  success: s.sum(METRIC_REQUESTS, { [ATTR_OUTCOME]: 'success' }),
  error: s.sum(METRIC_REQUESTS, { [ATTR_OUTCOME]: 'error' }),
  cancelled: s.sum(METRIC_REQUESTS, { [ATTR_OUTCOME]: 'cancelled' }),
});
const errorTypes = (s: Snapshot) =>
  s.points(METRIC_REQUESTS, { [ATTR_OUTCOME]: 'error' }).map((p) => p.attributes[ATTR_ERROR_TYPE]);

/** One Responses SSE event, framed as OpenAI frames it (or without its `event:` line). */
const event = (type: string, fields: Record<string, unknown>, withEventLine = true) =>
  `${withEventLine ? `event: ${type}\n` : ''}data: ${JSON.stringify({ type, ...fields })}\n\n`;
const RESPONSE = (status: string, extra: Record<string, unknown> = {}) => ({
  id: 'resp_fixed', object: 'response', created_at: 1700000000, status, model: 'gpt-4o-mini-2024-07-18',
  output: [], error: null, usage: null, ...extra,
});
const DELTA = (n: number, delta: string, withEventLine = true) =>
  event('response.output_text.delta', { sequence_number: n, item_id: 'msg_fixed', output_index: 0, content_index: 0, delta, logprobs: [] }, withEventLine);

describe('a streamed Responses API call', () => {
  it('records time to first token at the first response.output_text.delta, within a few ms of the scripted truth', async () => {
    h.server.enqueue({ kind: 'responses-stream', headersMs: 5, ttftMs: 80, gapMs: 5, chunks: ['a', 'b', 'c'] });
    const { thrown } = await consume(await stream());
    expect(thrown).toBeUndefined();
    const s = await h.finished();
    const truth = h.server.timeline(0).firstOutputAt! - h.server.requests[0]!.receivedAt;
    expect(truth).toBeGreaterThanOrEqual(80);
    const ttft = s.histogram(METRIC_TIME_TO_FIRST_TOKEN, { [ATTR_OPERATION_NAME]: OPERATION_CHAT });
    expect(ttft.count).toBe(1);
    expect(ms(ttft.sum)).toBeGreaterThanOrEqual(truth);
    expect(ms(ttft.sum)).toBeLessThan(truth + 20);
    // response.created / response.in_progress go out with the headers: they are the first chunk, not the first token.
    const ttfc = s.histogram(METRIC_TIME_TO_FIRST_CHUNK);
    expect(ttfc.count).toBe(1);
    expect(ms(ttfc.sum)).toBeLessThan(40);
  });

  it('records one chunk gap per output_text.delta after the first, within a few ms of the server\'s write times', async () => {
    h.server.enqueue({ kind: 'responses-stream', ttftMs: 20, gapMs: [30, 10, 50], chunks: ['a', 'b', 'c', 'd'] });
    await consume(await stream());
    const s = await h.finished();
    const gaps = s.histogram(METRIC_TIME_PER_OUTPUT_CHUNK);
    // The done/completed events after the last delta carry no new output: no gap for them.
    expect(gaps.count).toBe(3);
    // Against the server's own write times of the four deltas (events 4-7, after created,
    // in_progress, output_item.added and content_part.added): a late write moves both clocks.
    const written = h.server.timeline(0).events.slice(4, 8);
    const truth = written.slice(1).map((t, i) => t - written[i]!);
    expect(Math.max(...truth)).toBeGreaterThanOrEqual(40); // the long gap stayed the longest
    expect(Math.abs(ms(gaps.max) - Math.max(...truth))).toBeLessThan(8);
    expect(Math.abs(ms(gaps.sum) - (written[3]! - written[0]!))).toBeLessThan(8);
  });

  it('records billed input, output and cached tokens from response.completed, with the response model and cost', async () => {
    h.server.enqueue({
      kind: 'responses-stream', model: 'gpt-4o-mini-2024-07-18', gapMs: 10, chunks: ['a', 'b', 'c', 'd'],
      usage: { input: 30, output: 4, cachedInput: 10 },
    });
    await consume(await stream());
    const s = await h.finished();
    const attrs = { [ATTR_RESPONSE_MODEL]: 'gpt-4o-mini-2024-07-18' };
    expect(s.sum(METRIC_REQUESTS, { ...attrs, [ATTR_OUTCOME]: 'success' })).toBe(1);
    expect(s.histogram(METRIC_TOKEN_USAGE, { ...attrs, [ATTR_TOKEN_TYPE]: 'input' }).sum).toBe(30);
    expect(s.histogram(METRIC_TOKEN_USAGE, { ...attrs, [ATTR_TOKEN_TYPE]: 'output' }).sum).toBe(4);
    expect(s.points(METRIC_TOKEN_USAGE, { [ATTR_ESTIMATED]: true })).toHaveLength(0);
    // gpt-4o-mini: $0.15 / M input, $0.075 / M cached input, $0.60 / M output
    expect(s.sum(METRIC_COST)).toBeCloseTo((20 * 0.15 + 10 * 0.075 + 4 * 0.6) / 1e6, 12);
    // The billed count makes time per output token measurable: (last - first delta) / (4 - 1)
    const tpot = s.histogram(METRIC_TIME_PER_OUTPUT_TOKEN);
    expect(tpot.count).toBe(1);
    expect(ms(tpot.sum)).toBeGreaterThanOrEqual(6);
    expect(ms(tpot.sum)).toBeLessThan(20);
  });

  it('treats a terminal response.incomplete as a success, with its usage', async () => {
    h.server.enqueue({ kind: 'responses-stream', terminal: 'incomplete', chunks: ['a', 'b'], usage: { input: 9, output: 2 } });
    const { types, thrown } = await consume(await stream());
    expect(thrown).toBeUndefined();
    expect(types.at(-1)).toBe('response.incomplete');
    const s = await h.finished();
    expect(outcomes(s)).toEqual({ success: 1, error: 0, cancelled: 0 });
    expect(s.attributeKeys().has(ATTR_ERROR_TYPE)).toBe(false);
    expect(s.histogram(METRIC_TOKEN_USAGE, { [ATTR_TOKEN_TYPE]: 'input' }).sum).toBe(9);
    expect(s.histogram(METRIC_TOKEN_USAGE, { [ATTR_TOKEN_TYPE]: 'output' }).sum).toBe(2);
  });

  it('records a terminal response.failed as an error whose error.type is the provider error code', async () => {
    h.server.enqueue({ kind: 'responses-stream', terminal: 'failed', errorCode: 'vector_store_timeout', ttftMs: 10, chunks: ['a'] });
    const { types } = await consume(await stream());
    expect(types.at(-1)).toBe('response.failed');
    const s = await h.finished();
    expect(outcomes(s)).toEqual({ success: 0, error: 1, cancelled: 0 });
    expect(errorTypes(s)).toEqual(['vector_store_timeout']);
    expect(s.histogram(METRIC_OPERATION_DURATION, { [ATTR_ERROR_TYPE]: 'vector_store_timeout' }).count).toBe(1);
  });

  it('records an `event: error` mid-stream as an error with its code, and the app still gets the SDK error', async () => {
    h.server.enqueue({ kind: 'responses-stream', ttftMs: 10, gapMs: 10, chunks: ['a', 'b', 'c', 'd'], errorAfter: { chunks: 2, code: 'upstream_overloaded', message: 'try later' } });
    const { types, thrown } = await consume(await stream());
    expect(types.filter((t) => t === 'response.output_text.delta')).toHaveLength(2);
    expect(thrown).toBeInstanceOf(Error);
    expect(String((thrown as Error).message)).toContain('try later');
    const s = await h.finished();
    expect(outcomes(s)).toEqual({ success: 0, error: 1, cancelled: 0 });
    expect(errorTypes(s)).toEqual(['upstream_overloaded']);
  });

  it('reads the code of an `event: error` whose payload nests it under `error`', async () => {
    h.server.enqueue({
      kind: 'raw-sse',
      writes: [
        { atMs: 0, data: event('response.created', { sequence_number: 0, response: RESPONSE('in_progress') }) },
        { atMs: 5, data: DELTA(1, 'Hi'), output: true },
        { atMs: 10, data: event('error', { sequence_number: 2, error: { type: 'server_error', code: 'nested_code', message: 'nested', param: null } }) },
      ],
    });
    const { thrown } = await consume(await stream());
    expect(thrown).toBeInstanceOf(Error);
    const s = await h.finished();
    expect(errorTypes(s)).toEqual(['nested_code']);
  });

  it('records an `event: error` without any code as stream_error, not as its own event type', async () => {
    h.server.enqueue({
      kind: 'raw-sse',
      writes: [
        { atMs: 0, data: event('response.created', { sequence_number: 0, response: RESPONSE('in_progress') }) },
        { atMs: 5, data: DELTA(1, 'Hi'), output: true },
        { atMs: 10, data: event('error', { sequence_number: 2, message: 'something broke', param: null }) },
      ],
    });
    const { thrown } = await consume(await stream());
    expect(thrown).toBeInstanceOf(Error);
    const s = await h.finished();
    expect(errorTypes(s)).toEqual([ERROR_STREAM]);
  });

  it('records a stream that ends cleanly without a terminal event as stream_interrupted', async () => {
    h.server.enqueue({
      kind: 'raw-sse',
      writes: [
        { atMs: 0, data: event('response.created', { sequence_number: 0, response: RESPONSE('in_progress') }) },
        { atMs: 5, data: DELTA(1, 'Hel'), output: true },
        { atMs: 10, data: DELTA(2, 'lo') },
      ],
      end: 'end',
    });
    const { types, thrown } = await consume(await stream());
    // The SDK does not notice: the body simply ended.
    expect(thrown).toBeUndefined();
    expect(types).toEqual(['response.created', 'response.output_text.delta', 'response.output_text.delta']);
    const s = await h.finished();
    expect(outcomes(s)).toEqual({ success: 0, error: 1, cancelled: 0 });
    expect(errorTypes(s)).toEqual([ERROR_STREAM_INTERRUPTED]);
  });

  it('records a stream whose connection drops before a terminal event as stream_interrupted', async () => {
    h.server.enqueue({ kind: 'responses-stream', ttftMs: 10, gapMs: 10, chunks: ['a', 'b', 'c', 'd'], disconnectAfter: 2 });
    await consume(await stream());
    const s = await h.finished();
    expect(outcomes(s)).toEqual({ success: 0, error: 1, cancelled: 0 });
    expect(errorTypes(s)).toEqual([ERROR_STREAM_INTERRUPTED]);
    // Two deltas were seen before the drop.
    expect(s.histogram(METRIC_TIME_TO_FIRST_TOKEN).count).toBe(1);
    expect(s.histogram(METRIC_TIME_PER_OUTPUT_CHUNK).count).toBe(1);
  });

  it('reads events framed without `event:` lines by the type in their data', async () => {
    h.server.enqueue({
      kind: 'raw-sse',
      writes: [
        { atMs: 0, data: event('response.created', { sequence_number: 0, response: RESPONSE('in_progress') }, false) },
        { atMs: 40, data: DELTA(1, 'Hel', false), output: true },
        { atMs: 50, data: DELTA(2, 'lo', false) },
        {
          atMs: 50,
          data: event('response.completed', {
            sequence_number: 3,
            response: RESPONSE('completed', { usage: { input_tokens: 5, input_tokens_details: { cached_tokens: 0 }, output_tokens: 2, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 7 } }),
          }, false),
        },
      ],
    });
    const { types } = await consume(await stream());
    expect(types.at(-1)).toBe('response.completed');
    const s = await h.finished();
    expect(outcomes(s)).toEqual({ success: 1, error: 0, cancelled: 0 });
    expect(ms(s.histogram(METRIC_TIME_TO_FIRST_TOKEN).sum)).toBeGreaterThanOrEqual(39);
    expect(s.histogram(METRIC_TIME_PER_OUTPUT_CHUNK).count).toBe(1);
    expect(s.histogram(METRIC_TOKEN_USAGE, { [ATTR_TOKEN_TYPE]: 'output' }).sum).toBe(2);
  });
});
