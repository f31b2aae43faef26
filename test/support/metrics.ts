import type { Attributes } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  type HistogramMetricData,
  MeterProvider,
  type MetricData,
  MetricReader,
  type SumMetricData,
} from '@opentelemetry/sdk-metrics';
import { createMeterProvider } from '../../src/sdk/index.js';

/** A MetricReader that collects on demand: the real OTel SDK, nothing exported anywhere. */
class CollectingReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

export interface HistogramSummary {
  count: number;
  sum: number;
  min: number;
  max: number;
  boundaries: number[];
  counts: number[];
}

/** What one collection saw, with look-ups by metric name and attribute subset. */
export class Snapshot {
  constructor(readonly metrics: MetricData[]) {}

  metric(name: string): MetricData | undefined {
    return this.metrics.find((m) => m.descriptor.name === name);
  }

  /** Every data point of `name` whose attributes include `match`. */
  points(name: string, match: Attributes = {}): Array<{ attributes: Attributes; value: unknown }> {
    const m = this.metric(name);
    if (m === undefined) return [];
    return (m.dataPoints as Array<{ attributes: Attributes; value: unknown }>).filter((p) =>
      Object.entries(match).every(([k, v]) => p.attributes[k] === v),
    );
  }

  /** The sum of a counter (or up-down counter) over the points matching `match`. */
  sum(name: string, match: Attributes = {}): number {
    const m = this.metric(name) as SumMetricData | undefined;
    if (m !== undefined && m.dataPointType !== DataPointType.SUM) throw new Error(`${name} is not a sum`);
    return this.points(name, match).reduce((total, p) => total + (p.value as number), 0);
  }

  /** A histogram merged over the points matching `match`. */
  histogram(name: string, match: Attributes = {}): HistogramSummary {
    const m = this.metric(name) as HistogramMetricData | undefined;
    if (m !== undefined && m.dataPointType !== DataPointType.HISTOGRAM) throw new Error(`${name} is not a histogram`);
    const summary: HistogramSummary = { count: 0, sum: 0, min: Infinity, max: -Infinity, boundaries: [], counts: [] };
    for (const p of this.points(name, match)) {
      const v = p.value as { count: number; sum?: number; min?: number; max?: number; buckets: { boundaries: number[]; counts: number[] } };
      summary.count += v.count;
      summary.sum += v.sum ?? 0;
      summary.min = Math.min(summary.min, v.min ?? Infinity);
      summary.max = Math.max(summary.max, v.max ?? -Infinity);
      summary.boundaries = v.buckets.boundaries;
      summary.counts = v.buckets.counts.map((c, i) => c + (summary.counts[i] ?? 0));
    }
    return summary;
  }

  /** Every attribute key used on any point of any metric. */
  attributeKeys(): Set<string> {
    const keys = new Set<string>();
    for (const m of this.metrics) for (const p of m.dataPoints) for (const k of Object.keys(p.attributes)) keys.add(k);
    return keys;
  }
}

/**
 * How the test's MeterProvider is set up: by `inferometer/sdk`'s createMeterProvider (the chunk
 * gaps exported from per-stream totals), or as an app that brings its own SDK does (the chunk
 * gaps recorded through the plain API).
 */
export type TestSdk = 'inferometer-sdk' | 'plain-sdk';

/** A real OTel MeterProvider with an in-memory reader; `collect()` reads totals (cumulative unless `temporality: 'delta'`). */
export function createTestMeter(
  sdk: TestSdk = 'inferometer-sdk',
  temporality: 'cumulative' | 'delta' = 'cumulative',
): { meterProvider: MeterProvider; collect(): Promise<Snapshot>; shutdown(): Promise<void> } {
  const reader = new CollectingReader(
    temporality === 'delta' ? { aggregationTemporalitySelector: () => AggregationTemporality.DELTA } : undefined,
  );
  const meterProvider = sdk === 'plain-sdk' ? new MeterProvider({ readers: [reader] }) : createMeterProvider({ readers: [reader], global: false });
  return {
    meterProvider,
    async collect() {
      const { resourceMetrics, errors } = await reader.collect();
      if (errors.length > 0) throw new AggregateError(errors, 'metric collection failed');
      return new Snapshot(resourceMetrics.scopeMetrics.flatMap((s) => s.metrics));
    },
    shutdown: () => meterProvider.shutdown(),
  };
}

/** Collects until `predicate` holds (records are finished asynchronously, as bodies end). */
export async function collectUntil(
  meter: { collect(): Promise<Snapshot> },
  predicate: (s: Snapshot) => boolean,
  timeoutMs = 3000,
): Promise<Snapshot> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const snapshot = await meter.collect();
    if (predicate(snapshot) || performance.now() > deadline) return snapshot;
    await new Promise((r) => setTimeout(r, 5));
  }
}
