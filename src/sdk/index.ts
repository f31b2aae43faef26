/**
 * `inferometer/sdk`: an optional OpenTelemetry SDK set-up for apps that have none yet. It is a
 * separate entry point, so apps that bring their own SDK never load `@opentelemetry/sdk-metrics`
 * through inferometer.
 */
import { metrics } from '@opentelemetry/api';
import { AggregationType, type IMetricReader, MeterProvider, type MeterProviderOptions, type ViewOptions } from '@opentelemetry/sdk-metrics';
import { HISTOGRAMS } from '../metrics/histograms.js';

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
   * Buckets of an exponential histogram (more: finer resolution, more memory per series).
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
  const kind = options.histograms ?? 'explicit';
  if (kind !== 'explicit' && kind !== 'exponential') {
    throw new TypeError(`Expected \`histograms\` to be 'explicit' or 'exponential', got \`${String(kind)}\``);
  }
  return Object.values(HISTOGRAMS).map((spec) => ({
    meterName: 'inferometer',
    instrumentName: spec.name,
    aggregation:
      kind === 'explicit'
        ? { type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM, options: { boundaries: [...spec.buckets] } }
        : { type: AggregationType.EXPONENTIAL_HISTOGRAM, options: { maxSize: options.maxExponentialBuckets ?? 160 } },
  }));
}

/** Options of {@link createMeterProvider}. */
export interface MeterProviderSetup extends ViewsOptions {
  /** Where the metrics go: a PrometheusExporter, a PeriodicExportingMetricReader with an OTLP exporter, … */
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
  const provider = new MeterProvider({
    readers: setup.readers,
    views: [...inferometerViews(setup), ...(setup.views ?? [])],
    ...(setup.resource !== undefined ? { resource: setup.resource } : {}),
  });
  if (setup.global !== false) metrics.setGlobalMeterProvider(provider);
  return provider;
}
