import { metrics } from '@opentelemetry/api';
import { DataPointType, MetricReader } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { DURATION_BUCKETS, TOKEN_BUCKETS, instrument } from '../../src/index.js';
import { createMeterProvider, inferometerViews } from '../../src/sdk/index.js';
import { CHAT, useHarness } from '../support/harness.ts';

const h = useHarness();

class Reader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

async function run(kind: 'explicit' | 'exponential') {
  const reader = new Reader();
  const provider = createMeterProvider({ readers: [reader], histograms: kind, global: false });
  h.server.enqueue({ kind: 'chat-stream', chunks: ['a', 'b'] });
  for await (const _ of await instrument(h.bare(), { meterProvider: provider }).chat.completions.create({ ...CHAT, stream: true }));
  await new Promise((r) => setTimeout(r, 50));
  const { resourceMetrics } = await reader.collect();
  await provider.shutdown();
  return resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
}

describe('inferometer/sdk: a MeterProvider for apps without an OTel set-up', () => {
  it('aggregates with the semantic conventions\' explicit buckets', async () => {
    const all = await run('explicit');
    const duration = all.find((m) => m.descriptor.name === 'gen_ai.client.operation.duration')!;
    const tokens = all.find((m) => m.descriptor.name === 'gen_ai.client.token.usage')!;
    expect(duration.dataPointType).toBe(DataPointType.HISTOGRAM);
    expect((duration.dataPoints[0]!.value as { buckets: { boundaries: number[] } }).buckets.boundaries).toEqual(DURATION_BUCKETS);
    expect((tokens.dataPoints[0]!.value as { buckets: { boundaries: number[] } }).buckets.boundaries).toEqual(TOKEN_BUCKETS);
  });

  it('switches every inferometer histogram to base-2 exponential histograms on request', async () => {
    const all = await run('exponential');
    const histograms = all.filter((m) => m.dataPointType === DataPointType.HISTOGRAM || m.dataPointType === DataPointType.EXPONENTIAL_HISTOGRAM);
    expect(histograms.length).toBeGreaterThan(3);
    for (const m of histograms) expect(m.dataPointType, m.descriptor.name).toBe(DataPointType.EXPONENTIAL_HISTOGRAM);
  });

  it('registers itself as the global MeterProvider unless told not to', () => {
    const provider = createMeterProvider({ readers: [], global: true });
    try {
      expect(metrics.getMeterProvider()).toBe(provider);
    } finally {
      metrics.disable();
    }
  });

  it('gives one view per histogram, and rejects an unknown kind', () => {
    expect(inferometerViews().map((v) => v.instrumentName)).toContain('inferometer.time_to_first_token');
    expect(() => inferometerViews({ histograms: 'linear' as never })).toThrow("Expected `histograms` to be 'explicit' or 'exponential', got `linear`");
  });
});

describe('inferometer/sdk resource', () => {
  it('describes the metrics with the resource it is given', async () => {
    const { resourceFromAttributes } = await import('@opentelemetry/resources');
    const reader = new Reader();
    const provider = createMeterProvider({ readers: [reader], global: false, resource: resourceFromAttributes({ 'service.name': 'checkout' }) });
    provider.getMeter('inferometer').createCounter('c').add(1);
    const { resourceMetrics } = await reader.collect();
    await provider.shutdown();
    expect(resourceMetrics.resource.attributes['service.name']).toBe('checkout');
  });
});
