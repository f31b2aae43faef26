/**
 * `inferometer/sdk`: an optional OpenTelemetry SDK set-up for apps that have none yet. It is a
 * separate entry point, so apps that bring their own SDK never load `@opentelemetry/sdk-metrics`
 * through inferometer.
 */
import { metrics } from '@opentelemetry/api';
import { AggregationType, type IMetricReader, InstrumentType, MeterProvider, type MeterProviderOptions, type ViewOptions } from '@opentelemetry/sdk-metrics';
import { configError, InferometerConfigError } from '../errors.js';
import { attachChunkGapStore, ChunkGapStore } from '../metrics/chunk-gap-store.js';
import { HISTOGRAMS } from '../metrics/histograms.js';
import { exportChunkGaps } from './chunk-gap-producer.js';

/** How inferometer's histograms are aggregated. */
export type HistogramKind =
  /** Explicit buckets: the GenAI semantic conventions' boundaries (Prometheus, Grafana). */
  | 'explicit'
  /** Base-2 exponential histograms (OTLP backends that support them: Datadog distributions, Grafana Mimir native histograms). */
  | 'exponential';

/** Options of {@link inferometerViews}. */
export interface ViewsOptions {
  /** @default 'explicit' */
  readonly histograms?: HistogramKind;
  /**
   * Buckets of an exponential histogram (more: finer resolution, more memory per series), an
   * integer from 2 (the SDK's minimum) to 16384 (the largest the OTel SDKs accept).
   * @default 160
   */
  readonly maxExponentialBuckets?: number;
}

/**
 * One view per inferometer histogram (matched on the meter `inferometer`), fixing its
 * aggregation: the conventions' explicit boundaries, or a base-2 exponential histogram.
 * Instrument advice already carries the explicit boundaries; the views make them hold on SDKs
 * that ignore advice, and switch to exponential histograms where the backend wants them.
 *
 * @example new MeterProvider({ readers: [reader], views: inferometerViews({ histograms: 'exponential' }) })
 */
export function inferometerViews(options: ViewsOptions = {}): ViewOptions[] {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw configError('options', 'an object', options);
  rejectUnknown(options, VIEWS_OPTIONS);
  return views(options);
}

/** Options of {@link createMeterProvider}. */
export interface MeterProviderSetup extends ViewsOptions {
  /**
   * Where the metrics go: a PrometheusExporter, a PeriodicExportingMetricReader with an OTLP
   * exporter, … (an exporter alone is not a reader). `[]` records nothing.
   */
  readonly readers: IMetricReader[];
  /** Further views of the app's own. @default [] */
  readonly views?: ViewOptions[];
  /**
   * The resource the metrics describe (`service.name`, …), e.g.
   * `resourceFromAttributes({ 'service.name': 'checkout' })` from `@opentelemetry/resources`.
   * @default the SDK's default resource (`service.name` = `unknown_service:node`)
   */
  readonly resource?: MeterProviderOptions['resource'];
  /**
   * Register it as the global MeterProvider (what `instrument()` uses when given none).
   * @default true
   */
  readonly global?: boolean;
}

/**
 * A MeterProvider with inferometer's views, registered as the global one unless `global: false`.
 *
 * @example
 * import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
 * createMeterProvider({ readers: [new PrometheusExporter({ port: 9464 })] });
 * const client = instrument(new OpenAI(), { workload: 'chat' });
 */
export function createMeterProvider(setup: MeterProviderSetup): MeterProvider {
  validateSetup(setup);
  // The per-chunk gaps are exported from per-stream totals rather than recorded once per chunk
  // (src/metrics/chunk-gap-store.ts), where the result is the same: explicit buckets, and no view
  // of the app's own that could reshape that histogram.
  const store = (setup.histograms ?? 'explicit') === 'explicit' && !(setup.views ?? []).some(selectsChunkGaps) ? new ChunkGapStore() : undefined;
  if (store !== undefined) exportChunkGaps(setup.readers, store);
  const provider = new MeterProvider({
    readers: setup.readers,
    views: [...views(setup), ...(setup.views ?? [])],
    ...(setup.resource !== undefined ? { resource: setup.resource } : {}),
  });
  if (store !== undefined) attachChunkGapStore(provider, store);
  if (setup.global !== false) metrics.setGlobalMeterProvider(provider);
  return provider;
}

/** Whether a view could select the per-chunk gap histogram (its selectors unset, a wildcard, or matching). */
function selectsChunkGaps(view: ViewOptions): boolean {
  const name = view.instrumentName;
  return (
    (view.meterName === undefined || view.meterName === 'inferometer') &&
    (name === undefined || /[*?]/.test(name) || name === HISTOGRAMS.timePerOutputChunk.name) &&
    (view.instrumentType === undefined || view.instrumentType === InstrumentType.HISTOGRAM) &&
    (view.instrumentUnit === undefined || view.instrumentUnit === HISTOGRAMS.timePerOutputChunk.unit)
  );
}

// Validation, in the one message form of ../config.ts.

/** @throws InferometerConfigError */
function validateSetup(setup: unknown): asserts setup is MeterProviderSetup {
  if (typeof setup !== 'object' || setup === null || Array.isArray(setup)) throw configError('options', 'an object with `readers`', setup);
  rejectUnknown(setup, SETUP_OPTIONS);
  const { readers, views: extra, resource, global } = setup as Partial<Record<(typeof SETUP_OPTIONS)[number], unknown>>;
  if (!Array.isArray(readers)) {
    throw configError('readers', 'an array of MetricReaders (a PrometheusExporter, a PeriodicExportingMetricReader, …)', readers);
  }
  readers.forEach((reader: unknown, i) => {
    if (isReader(reader)) return;
    const exporter = typeof (reader as { export?: unknown } | null)?.export === 'function';
    const fix = exporter ? 'that is an exporter: wrap it in a reader, e.g. new PeriodicExportingMetricReader({ exporter })' : undefined;
    throw configError(`readers[${i}]`, 'a MetricReader (an object with setMetricProducer(), collect(), forceFlush() and shutdown())', reader, fix);
  });
  if (extra !== undefined && !Array.isArray(extra)) throw configError('views', 'an array of views (ViewOptions)', extra);
  if (resource !== undefined && typeof (resource as { merge?: unknown } | null)?.merge !== 'function') {
    throw configError('resource', "an OpenTelemetry Resource (resourceFromAttributes({ 'service.name': … }) from @opentelemetry/resources)", resource);
  }
  if (global !== undefined && typeof global !== 'boolean') throw configError('global', 'a boolean', global);
}

const VIEWS_OPTIONS = ['histograms', 'maxExponentialBuckets'] as const;
const SETUP_OPTIONS = ['readers', 'views', 'resource', 'global', ...VIEWS_OPTIONS] as const;
/** The JS SDK raises a smaller maxSize to 2; the Python SDK rejects more than 16384 ("accidental giant histograms"). */
const MIN_BUCKETS = 2;
const MAX_BUCKETS = 16_384;

/** The views for options already checked for unknown keys. @throws InferometerConfigError */
function views(options: ViewsOptions): ViewOptions[] {
  const { histograms: kind = 'explicit', maxExponentialBuckets: maxSize = 160 } = options;
  if (kind !== 'explicit' && kind !== 'exponential') {
    const fix = kind === 'native' ? 'Prometheus native histograms are "exponential"' : undefined;
    throw configError('histograms', '"explicit" or "exponential"', kind, fix);
  }
  if (!Number.isInteger(maxSize) || maxSize < MIN_BUCKETS || maxSize > MAX_BUCKETS) {
    throw configError('maxExponentialBuckets', `an integer from ${MIN_BUCKETS} to ${MAX_BUCKETS}`, maxSize);
  }
  return Object.values(HISTOGRAMS).map((spec) => ({
    meterName: 'inferometer',
    instrumentName: spec.name,
    aggregation:
      kind === 'explicit'
        ? { type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM, options: { boundaries: [...spec.buckets] } }
        : { type: AggregationType.EXPONENTIAL_HISTOGRAM, options: { maxSize } },
  }));
}

function rejectUnknown(options: object, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new InferometerConfigError(`Unknown option \`${key}\`; the options are ${known.map((k) => `\`${k}\``).join(', ')}`);
    }
  }
}

const READER_METHODS = ['setMetricProducer', 'collect', 'forceFlush', 'shutdown'] as const;

function isReader(value: unknown): value is IMetricReader {
  return typeof value === 'object' && value !== null && READER_METHODS.every((m) => typeof (value as Record<string, unknown>)[m] === 'function');
}
