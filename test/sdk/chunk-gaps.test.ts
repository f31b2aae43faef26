import type { Attributes, MeterProvider } from '@opentelemetry/api';
import { AggregationTemporality, AggregationType, DataPointType, type HistogramMetricData, MetricReader } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { PriceBook } from '../../src/cost/price-book.js';
import { chunkGapStoreOf } from '../../src/metrics/chunk-gap-store.js';
import { instrumentsFor } from '../../src/metrics/instruments.js';
import { MetricRecorder } from '../../src/metrics/recorder.js';
import { RequestRecord } from '../../src/record.js';
import * as sc from '../../src/semconv.js';
import { createMeterProvider, type MeterProviderSetup } from '../../src/sdk/index.js';
import { GapHistogram } from '../../src/stream/gap-histogram.js';
import { VERSION } from '../../src/version.js';
import { createTestMeter, type TestSdk } from '../support/metrics.ts';

/*
 * Where inferometer/sdk set up the MeterProvider, the per-chunk gap histogram is exported from
 * per-stream totals instead of one OTel record per chunk. These specs pin that it is the same
 * histogram, in each reader's temporality, and that it steps aside wherever it could differ.
 */

const GAPS = 'gen_ai.client.operation.time_per_output_chunk';

const chat = (workload: string): Attributes => ({
  [sc.ATTR_OPERATION_NAME]: 'chat',
  [sc.ATTR_PROVIDER_NAME]: 'openai',
  [sc.ATTR_REQUEST_MODEL]: 'gpt-4o-mini',
  [sc.ATTR_SERVER_ADDRESS]: '127.0.0.1',
  [sc.ATTR_WORKLOAD_CLASS]: workload,
});

/** Finishes one streamed request with these chunk gaps (ms) through the real recorder. */
function finishStream(provider: MeterProvider, attributes: Attributes, gaps: number[]): void {
  const recorder = new MetricRecorder(() => instrumentsFor(provider, VERSION), new PriceBook({}), {});
  const record = new RequestRecord(attributes, true, 0, recorder);
  record.firstChunkAt = record.firstOutputAt = 1;
  record.outputChunks = gaps.length + 1;
  record.gaps = new GapHistogram();
  for (const g of gaps) record.gaps.add(g);
  record.lastOutputAt = 1 + gaps.reduce((a, b) => a + b, 0);
  record.finish('success', undefined, record.lastOutputAt + 1);
}

/** 5,000 gaps from 0.1 ms to 800 ms, log-spread, plus the boundaries, past the last one, and zero. */
function someGaps(seed: number): number[] {
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const gaps = Array.from({ length: 5000 }, () => Math.exp(random() * 9) / 10);
  gaps.push(10, 20, 81920, 100_000, 0);
  return gaps;
}

async function histogramsAfter(sdk: TestSdk, streams: Array<[Attributes, number[]]>) {
  const meter = createTestMeter(sdk);
  for (const [attributes, gaps] of streams) finishStream(meter.meterProvider, attributes, gaps);
  const snapshot = await meter.collect();
  await meter.shutdown();
  return snapshot;
}

describe('the chunk gaps exported from per-stream totals (inferometer/sdk)', () => {
  it('give the same histogram as one OTel record per chunk, per attribute set', async () => {
    const streams: Array<[Attributes, number[]]> = [
      [chat('chat'), someGaps(7)],
      [chat('chat'), someGaps(8).slice(0, 300)],
      [chat('batch'), someGaps(9)],
    ];
    const exported = await histogramsAfter('inferometer-sdk', streams);
    const recorded = await histogramsAfter('plain-sdk', streams);
    for (const workload of ['chat', 'batch']) {
      const a = exported.histogram(GAPS, { [sc.ATTR_WORKLOAD_CLASS]: workload });
      const b = recorded.histogram(GAPS, { [sc.ATTR_WORKLOAD_CLASS]: workload });
      expect(a.count).toBe(workload === 'chat' ? 5305 : 5005);
      expect(a.counts).toEqual(b.counts);
      expect(a.boundaries).toEqual(b.boundaries);
      expect(a.count).toBe(b.count);
      expect(a.min).toBe(b.min);
      expect(a.max).toBe(b.max);
      expect(a.sum).toBeCloseTo(b.sum, 6);
    }
    // The same attributes on its points as on the recorded ones (the conventions' required ones, model, workload).
    expect(exported.points(GAPS).map((p) => p.attributes)).toEqual(recorded.points(GAPS).map((p) => p.attributes));
    expect(exported.metric(GAPS)?.descriptor).toMatchObject({ unit: 's', description: expect.stringContaining('one record per chunk') });
  });

  it('make no OTel record per chunk: the histogram instrument is not even created', () => {
    const meter = createTestMeter('inferometer-sdk');
    const instruments = instrumentsFor(meter.meterProvider, VERSION);
    expect(instruments.timePerOutputChunk).toBeUndefined();
    expect(instruments.chunkGaps).toBeDefined();
    expect(instrumentsFor(createTestMeter('plain-sdk').meterProvider, VERSION).chunkGaps).toBeUndefined();
  });

  it('give a delta reader only the streams since its last collection, and no point for an empty interval', async () => {
    const meter = createTestMeter('inferometer-sdk', 'delta');
    finishStream(meter.meterProvider, chat('chat'), [5, 50]);
    const first = await meter.collect();
    expect(first.histogram(GAPS).count).toBe(2);
    expect((first.metric(GAPS) as HistogramMetricData).aggregationTemporality).toBe(AggregationTemporality.DELTA);
    expect((await meter.collect()).points(GAPS)).toEqual([]);
    finishStream(meter.meterProvider, chat('chat'), [500]);
    const third = await meter.collect();
    expect(third.histogram(GAPS)).toMatchObject({ count: 1, min: 0.5, max: 0.5 });
    await meter.shutdown();
  });

  it('give a cumulative reader the running totals, from the same start', async () => {
    const meter = createTestMeter('inferometer-sdk');
    finishStream(meter.meterProvider, chat('chat'), [5, 50]);
    const first = await meter.collect();
    finishStream(meter.meterProvider, chat('chat'), [500]);
    const second = await meter.collect();
    expect(second.histogram(GAPS)).toMatchObject({ count: 3, min: 0.005, max: 0.5 });
    const start = (s: typeof first) => (s.metric(GAPS) as HistogramMetricData).dataPoints[0]!.startTime;
    expect(start(second)).toEqual(start(first));
    await meter.shutdown();
  });

  it('serve two readers of one provider, each in its own temporality', async () => {
    class Reader extends MetricReader {
      protected override async onForceFlush(): Promise<void> {}
      protected override async onShutdown(): Promise<void> {}
    }
    const cumulative = new Reader();
    const delta = new Reader({ aggregationTemporalitySelector: () => AggregationTemporality.DELTA });
    const provider = createMeterProvider({ readers: [cumulative, delta], global: false });
    const count = async (reader: MetricReader) => {
      const { resourceMetrics } = await reader.collect();
      const metric = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === GAPS) as HistogramMetricData | undefined;
      return metric?.dataPoints.reduce((n, p) => n + p.value.count, 0) ?? 0;
    };
    finishStream(provider, chat('chat'), [1, 2, 3]);
    expect(await count(delta)).toBe(3);
    finishStream(provider, chat('chat'), [4]);
    expect([await count(cumulative), await count(delta), await count(cumulative)]).toEqual([4, 1, 4]);
    // In inferometer's scope, beside its other metrics.
    const { resourceMetrics } = await cumulative.collect();
    const scopes = resourceMetrics.scopeMetrics.filter((s) => s.metrics.some((m) => m.descriptor.name === GAPS));
    expect(scopes.map((s) => s.scope.name)).toEqual(['inferometer']);
    expect(scopes[0]!.metrics.map((m) => m.descriptor.name)).toContain('gen_ai.client.operation.duration');
    await provider.shutdown();
  });

  it.each<[string, Omit<MeterProviderSetup, 'readers'>, DataPointType]>([
    ['exponential histograms', { histograms: 'exponential' }, DataPointType.EXPONENTIAL_HISTOGRAM],
    ['an app view on that histogram', { views: [{ instrumentName: GAPS, aggregation: { type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM, options: { boundaries: [0.5] } } }] }, DataPointType.HISTOGRAM],
    ['an app view on every instrument', { views: [{ instrumentName: '*', attributesProcessors: [] }] }, DataPointType.HISTOGRAM],
  ])('step aside for %s: the gaps are then recorded through the API, as the views say', async (_case, options, type) => {
    class Reader extends MetricReader {
      protected override async onForceFlush(): Promise<void> {}
      protected override async onShutdown(): Promise<void> {}
    }
    const reader = new Reader();
    const provider = createMeterProvider({ readers: [reader], global: false, ...options });
    expect(chunkGapStoreOf(provider)).toBeUndefined();
    finishStream(provider, chat('chat'), [5, 50]);
    const { resourceMetrics } = await reader.collect();
    const metric = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).filter((m) => m.descriptor.name === GAPS);
    expect(metric).toHaveLength(1);
    expect(metric[0]!.dataPointType).toBe(type);
    expect(metric[0]!.dataPoints).toHaveLength(1);
    await provider.shutdown();
  });
});
