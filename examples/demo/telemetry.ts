/**
 * The OpenTelemetry side of the demo: one MeterProvider with two readers, an in-memory one that
 * the scorecard collects from, and a Prometheus exporter served on 127.0.0.1 at `/metrics`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { type MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import type { MetricData } from '@opentelemetry/sdk-metrics';
import { createMeterProvider } from 'inferometer/sdk';

/** A MetricReader that exports nowhere: the demo calls `collect()` when it wants a snapshot. */
class InMemoryReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** The demo's metrics pipeline. */
export interface Telemetry {
  readonly meterProvider: MeterProvider;
  /** `http://127.0.0.1:PORT/metrics` */
  readonly metricsUrl: string;
  /** Every metric recorded so far (cumulative). */
  collect(): Promise<MetricData[]>;
  /** Stops the Prometheus endpoint and shuts the MeterProvider down. */
  shutdown(): Promise<void>;
}

/**
 * Starts the MeterProvider and the Prometheus endpoint. The exporter's own server cannot listen
 * on a random port (it treats port 0 as "use 9464"), so the demo serves the exporter's request
 * handler from a server of its own.
 * @param promPort the port of the Prometheus endpoint; 0 picks a free one
 */
export async function startTelemetry(promPort: number): Promise<Telemetry> {
  const memory = new InMemoryReader();
  const prometheus = new PrometheusExporter({ preventServerStart: true });
  // inferometer's views (the conventions' buckets); not the global provider: the demo passes it to instrument().
  const meterProvider = createMeterProvider({ readers: [memory, prometheus], global: false });

  const server = createServer((req, res) => {
    if (req.method === 'GET' && new URL(req.url ?? '/', 'http://localhost').pathname === '/metrics') {
      prometheus.getMetricsRequestHandler(req, res);
    } else {
      res.statusCode = 404;
      res.end('Not found: try /metrics\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new Error(`cannot serve metrics on 127.0.0.1:${promPort} (${error.code ?? error.message}); choose another port with --prom-port (0 = any free port)`)),
    );
    server.listen(promPort, '127.0.0.1', () => {
      server.removeAllListeners('error');
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    meterProvider,
    metricsUrl: `http://127.0.0.1:${port}/metrics`,
    async collect() {
      const { resourceMetrics, errors } = await memory.collect();
      if (errors.length > 0) throw new AggregateError(errors, 'metric collection failed');
      return resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
    },
    async shutdown() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await meterProvider.shutdown();
    },
  };
}
