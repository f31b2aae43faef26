import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { InferometerConfigError, SLO_PRESETS, instrument } from '../src/index.js';
import type { Objectives } from '../src/index.js';
import type { Script } from './support/scripted-server.ts';
import { CHAT, useHarness } from './support/harness.ts';

const h = useHarness();

/** Streams one scripted chat answer through a client with `objectives` for its class; returns the SLO points. */
async function judged(objectives: Objectives, script: Script) {
  h.server.enqueue(script);
  const client = h.client({ workload: 'w', slo: { w: objectives } });
  try {
    for await (const _ of await client.chat.completions.create({ ...CHAT, stream: true }));
  } catch {
    // failures are judged too
  }
  const s = await h.finished();
  return {
    met: s.sum('inferometer.slo.requests', { 'inferometer.slo.outcome': 'met' }),
    missed: s.points('inferometer.slo.requests', { 'inferometer.slo.outcome': 'missed' }).map((p) => p.attributes['inferometer.slo.missed']),
  };
}

const stream = (over: Partial<Extract<Script, { kind: 'chat-stream' }>> = {}): Script => ({
  kind: 'chat-stream',
  chunks: ['a', 'b', 'c', 'd', 'e'],
  usage: { input: 5, output: 5 },
  ...over,
});

describe('SLOs and goodput per workload class', () => {
  it.each([
    ['timeToFirstToken', { timeToFirstToken: 0.1 }, stream({ ttftMs: 20 })],
    ['timePerOutputToken', { timePerOutputToken: 0.03 }, stream({ gapMs: 5 })],
    ['duration', { duration: 0.15 }, stream({ gapMs: 5 })],
    ['maxChunkGap', { maxChunkGap: 0.08 }, stream({ gapMs: 10 })],
    ['minOutputSpeed', { minOutputSpeed: 40 }, stream({ gapMs: 5 })],
  ] as const)('a request that keeps %s is met', async (_name, objectives, good) => {
    expect(await judged(objectives, good)).toEqual({ met: 1, missed: [] });
  });

  it.each([
    ['time_to_first_token', { timeToFirstToken: 0.1 }, stream({ ttftMs: 150 })],
    ['time_per_output_token', { timePerOutputToken: 0.03 }, stream({ gapMs: 60 })],
    ['duration', { duration: 0.15 }, stream({ gapMs: 50 })],
    ['max_chunk_gap', { maxChunkGap: 0.08 }, stream({ gapMs: [10, 150, 10, 10] })],
    ['output_speed', { minOutputSpeed: 40 }, stream({ gapMs: 60 })],
  ] as const)('a request that breaks %s is missed, naming it', async (missedName, objectives, bad) => {
    expect(await judged(objectives, bad)).toEqual({ met: 0, missed: [missedName] });
  });

  it('reports the objective missed first, in the order a request lives them', async () => {
    expect(await judged({ duration: 0.05, timeToFirstToken: 0.05 }, stream({ ttftMs: 100 }))).toEqual({ met: 0, missed: ['time_to_first_token'] });
  });

  it('counts a failed request as missed with reason "error"', async () => {
    expect(await judged({ duration: 10 }, stream({ disconnectAfter: 2 }))).toEqual({ met: 0, missed: ['error'] });
  });

  it('counts a cancelled request as missed with reason "cancelled"', async () => {
    h.server.enqueue(stream({ gapMs: 20 }));
    const client = h.client({ workload: 'w', slo: { w: { duration: 10 } } });
    for await (const _ of await client.chat.completions.create({ ...CHAT, stream: true })) break;
    const s = await h.finished();
    expect(s.points('inferometer.slo.requests', { 'inferometer.slo.missed': 'cancelled' })).toHaveLength(1);
  });

  it('records no SLO metric for a class without objectives', async () => {
    h.server.enqueue(stream());
    const client = h.client({ workload: 'other', slo: { w: { duration: 10 } } });
    for await (const _ of await client.chat.completions.create({ ...CHAT, stream: true }));
    const s = await h.finished();
    expect(s.sum('inferometer.slo.requests')).toBe(0);
  });

  it('records the largest chunk gap of each streamed request, so stalls show even when the per-chunk histogram hides them', async () => {
    h.server.enqueue(stream({ gapMs: [5, 120, 5, 5] }));
    for await (const _ of await h.client().chat.completions.create({ ...CHAT, stream: true }));
    const s = await h.finished();
    const max = s.histogram('inferometer.max_chunk_gap');
    const written = h.server.timeline(0).events.slice(1, 6); // the five output chunks
    const truth = Math.max(...written.slice(1).map((t, i) => t - written[i]!));
    expect(max.count).toBe(1);
    expect(truth).toBeGreaterThanOrEqual(100);
    expect(Math.abs(max.sum * 1000 - truth)).toBeLessThan(8);
  });

  it('ships presets for the three workloads of the brief, valid as options', () => {
    expect(Object.keys(SLO_PRESETS)).toEqual(['interactiveChat', 'batch', 'productionService']);
    expect(() => instrument(new OpenAI({ apiKey: 'k' }), { slo: { chat: SLO_PRESETS.interactiveChat, batch: SLO_PRESETS.batch, svc: SLO_PRESETS.productionService } })).not.toThrow();
  });

  it.each([
    [{ w: { timeToFirstToken: 0 } }, 'Expected `slo["w"].timeToFirstToken` to be a number > 0 and <= 300 (seconds), got `0` (number)'],
    [{ w: { minOutputSpeed: -5 } }, 'Expected `slo["w"].minOutputSpeed` to be a number > 0 and <= 10000 (tokens per second), got `-5` (number)'],
    [{ w: { duration: Number.POSITIVE_INFINITY } }, 'Expected `slo["w"].duration` to be a number > 0 and <= 3600 (seconds), got `Infinity` (number)'],
    [{ w: { ttft: 1 } }, 'Unknown objective `slo["w"].ttft`; the objectives are `timeToFirstToken`, `maxChunkGap`, `timePerOutputToken`, `minOutputSpeed`, `duration`'],
    [{ 'bad name': {} }, 'Expected `slo key "bad name"` to be a workload class name (1-64 characters of A-Z a-z 0-9 . _ - : /), got `"bad name"` (string)'],
    [[], 'Expected `slo` to be an object of workload class -> objectives, got `[]` (array)'],
  ])('validates objectives up front: %j', (slo, message) => {
    expect(() => instrument(new OpenAI({ apiKey: 'k' }), { slo: slo as never })).toThrow(new InferometerConfigError(message));
  });

  it.each([
    ['timeToFirstToken', 800, 'Expected `slo["w"].timeToFirstToken` to be a number > 0 and <= 300 (seconds), got `800` (number); objectives are in seconds: for 800 milliseconds write 0.8'],
    ['maxChunkGap', 2000, 'Expected `slo["w"].maxChunkGap` to be a number > 0 and <= 300 (seconds), got `2000` (number); objectives are in seconds: for 2000 milliseconds write 2'],
    ['timePerOutputToken', 50, 'Expected `slo["w"].timePerOutputToken` to be a number > 0 and <= 10 (seconds), got `50` (number); objectives are in seconds: for 50 milliseconds write 0.05'],
    ['duration', 120_000, 'Expected `slo["w"].duration` to be a number > 0 and <= 3600 (seconds), got `120000` (number); objectives are in seconds: for 120000 milliseconds write 120'],
    ['duration', 1e9, 'Expected `slo["w"].duration` to be a number > 0 and <= 3600 (seconds), got `1000000000` (number)'],
    ['minOutputSpeed', 50_000, 'Expected `slo["w"].minOutputSpeed` to be a number > 0 and <= 10000 (tokens per second), got `50000` (number)'],
  ] as const)('rejects an implausible %s of %d, and says how to write milliseconds in seconds', (name, value, message) => {
    expect(() => instrument(new OpenAI({ apiKey: 'k' }), { slo: { w: { [name]: value } } })).toThrow(new InferometerConfigError(message));
  });

  it('accepts each objective at its bound: 5 minutes to the first token or between chunks, 10 s per token, an hour in all, 10000 tokens/s', () => {
    const longest = { timeToFirstToken: 300, maxChunkGap: 300, timePerOutputToken: 10, duration: 3600, minOutputSpeed: 10_000 };
    expect(() => instrument(new OpenAI({ apiKey: 'k' }), { slo: { w: longest } })).not.toThrow();
  });
});
