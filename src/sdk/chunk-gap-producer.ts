import { ValueType } from '@opentelemetry/api';
import {
  AggregationTemporality,
  type CollectionResult,
  DataPointType,
  type HistogramMetricData,
  type IMetricReader,
  InstrumentType,
  type MetricProducer,
  type ScopeMetrics,
} from '@opentelemetry/sdk-metrics';
import { reportInternalError } from '../diag.js';
import type { ChunkGapStore, GapSeries, GapSeriesSet } from '../metrics/chunk-gap-store.js';
import { HISTOGRAMS } from '../metrics/histograms.js';
import { VERSION } from '../version.js';

const SPEC = HISTOGRAMS.timePerOutputChunk;
const SCOPE = 'inferometer';

/**
 * Makes each reader export the chunk gaps of `store` as the histogram
 * `gen_ai.client.operation.time_per_output_chunk`, in the reader's own temporality (Datadog's
 * delta, Prometheus' cumulative): the metric producer the MeterProvider binds to the reader is
 * wrapped, so that a collection returns the SDK's metrics and, in inferometer's scope, this one.
 * Call before the readers are given to a MeterProvider.
 */
export function exportChunkGaps(readers: readonly IMetricReader[], store: ChunkGapStore): void {
  for (const reader of readers) {
    // (A reader without a selector, one the app wrote, gets cumulative points, the SDK's default.)
    const temporality =
      typeof reader.selectAggregationTemporality === 'function' ? reader.selectAggregationTemporality(InstrumentType.HISTOGRAM) : AggregationTemporality.CUMULATIVE;
    const set = store.subscribe(temporality === AggregationTemporality.DELTA ? 'delta' : 'cumulative');
    const bind = reader.setMetricProducer.bind(reader);
    reader.setMetricProducer = (sdk: MetricProducer) =>
      bind({ collect: async (options) => withChunkGaps(await sdk.collect(options), set, temporality) });
  }
}

/** The SDK's collection with the gap histogram added; on any failure of ours, the SDK's as it was. */
function withChunkGaps(result: CollectionResult, set: GapSeriesSet, temporality: AggregationTemporality): CollectionResult {
  try {
    const endTime = Date.now();
    const series = set.collect(endTime);
    if (series.length === 0) return result;
    const metric: HistogramMetricData = {
      descriptor: { name: SPEC.name, description: SPEC.description, unit: SPEC.unit, valueType: ValueType.DOUBLE },
      aggregationTemporality: temporality,
      dataPointType: DataPointType.HISTOGRAM,
      dataPoints: series.map((s) => point(s, endTime)),
    };
    const scopes = result.resourceMetrics.scopeMetrics;
    const ours = scopes.find((s) => s.scope.name === SCOPE);
    if (ours !== undefined) ours.metrics.push(metric);
    else scopes.push({ scope: { name: SCOPE, version: VERSION }, metrics: [metric] } satisfies ScopeMetrics);
    return result;
  } catch (error) {
    reportInternalError('exporting the chunk gaps', error);
    return result;
  }
}

function point({ attributes, startTime, totals }: GapSeries, endTime: number): HistogramMetricData['dataPoints'][number] {
  return {
    attributes,
    startTime: hrTime(startTime),
    endTime: hrTime(endTime),
    value: {
      buckets: { boundaries: [...SPEC.buckets], counts: [...totals.counts] },
      count: totals.count,
      sum: totals.sum / 1000,
      min: totals.min / 1000,
      max: totals.max / 1000,
    },
  };
}

/** Epoch milliseconds as OTel's [seconds, nanoseconds]. */
function hrTime(ms: number): [number, number] {
  const seconds = Math.floor(ms / 1000);
  return [seconds, Math.round((ms - seconds * 1000) * 1e6)];
}
