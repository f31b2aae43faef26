import { metrics } from '@opentelemetry/api';
import { AggregationType, DataPointType, MetricReader } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { DURATION_BUCKETS, InferometerConfigError, TOKEN_BUCKETS, instrument } from '../../src/index.js';
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

  it('gives one view per histogram', () => {
    expect(inferometerViews().map((v) => v.instrumentName)).toContain('inferometer.time_to_first_token');
  });
});

describe('inferometer/sdk validates its options up front, in the one message form', () => {
  const reader = new Reader();
  it.each([
    ['no options', undefined, 'Expected `options` to be an object with `readers`, got `undefined` (undefined)'],
    ['no readers', {}, 'Expected `readers` to be an array of MetricReaders (a PrometheusExporter, a PeriodicExportingMetricReader, …), got `undefined` (undefined)'],
    ['readers not an array', { readers: 'prometheus' }, 'Expected `readers` to be an array of MetricReaders (a PrometheusExporter, a PeriodicExportingMetricReader, …), got `"prometheus"` (string)'],
    ['a reader that is null', { readers: [reader, null] }, 'Expected `readers[1]` to be a MetricReader (an object with setMetricProducer(), collect(), forceFlush() and shutdown()), got `null` (null)'],
    [
      'an exporter where a reader belongs',
      { readers: [{ export() {}, forceFlush() {}, shutdown() {} }] },
      'Expected `readers[0]` to be a MetricReader (an object with setMetricProducer(), collect(), forceFlush() and shutdown()), got `{}` (object); that is an exporter: wrap it in a reader, e.g. new PeriodicExportingMetricReader({ exporter })',
    ],
    ['views not an array', { readers: [reader], views: {} }, 'Expected `views` to be an array of views (ViewOptions), got `{}` (object)'],
    [
      'a plain object as resource',
      { readers: [reader], resource: { 'service.name': 'checkout' } },
      'Expected `resource` to be an OpenTelemetry Resource (resourceFromAttributes({ \'service.name\': … }) from @opentelemetry/resources), got `{"service.name":"checkout"}` (object)',
    ],
    ['global not a boolean', { readers: [reader], global: 'no' }, 'Expected `global` to be a boolean, got `"no"` (string)'],
    ['an unknown option', { readers: [reader], reader }, 'Unknown option `reader`; the options are `readers`, `views`, `resource`, `global`, `histograms`, `maxExponentialBuckets`'],
    ['too few exponential buckets', { readers: [reader], maxExponentialBuckets: 1 }, 'Expected `maxExponentialBuckets` to be an integer from 2 to 16384, got `1` (number)'],
  ])('createMeterProvider rejects %s', (_case, setup, message) => {
    expect(() => createMeterProvider(setup as never)).toThrow(InferometerConfigError);
    expect(() => createMeterProvider(setup as never)).toThrow(new InferometerConfigError(message));
  });

  it.each([
    [null, 'Expected `options` to be an object, got `null` (null)'],
    [{ histograms: 'native' }, 'Expected `histograms` to be "explicit" or "exponential", got `"native"` (string); Prometheus native histograms are "exponential"'],
    [{ histograms: 'linear' }, 'Expected `histograms` to be "explicit" or "exponential", got `"linear"` (string)'],
    [{ maxExponentialBuckets: 160.5 }, 'Expected `maxExponentialBuckets` to be an integer from 2 to 16384, got `160.5` (number)'],
    [{ maxExponentialBuckets: '160' }, 'Expected `maxExponentialBuckets` to be an integer from 2 to 16384, got `"160"` (string)'],
    [{ maxExponentialBuckets: 20_000 }, 'Expected `maxExponentialBuckets` to be an integer from 2 to 16384, got `20000` (number)'],
    [{ buckets: 20 }, 'Unknown option `buckets`; the options are `histograms`, `maxExponentialBuckets`'],
  ])('inferometerViews(%j)', (options, message) => {
    expect(() => inferometerViews(options as never)).toThrow(InferometerConfigError);
    expect(() => inferometerViews(options as never)).toThrow(new InferometerConfigError(message));
  });

  it('takes maxExponentialBuckets from 2 to 16384 into every exponential view', () => {
    for (const maxSize of [2, 16_384]) {
      const views = inferometerViews({ histograms: 'exponential', maxExponentialBuckets: maxSize });
      for (const view of views) expect(view.aggregation).toEqual({ type: AggregationType.EXPONENTIAL_HISTOGRAM, options: { maxSize } });
    }
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
