/**
 * inferometer -> Prometheus -> Grafana.
 *
 * The app serves its metrics at http://127.0.0.1:9464/metrics with the OpenTelemetry Prometheus
 * exporter; Prometheus scrapes them (prometheus.yml); Grafana shows dashboards/grafana.json.
 *
 *   npx tsup && node examples/prometheus/main.ts [--port 9464] [--host 127.0.0.1] [--requests N]
 *
 * Without OPENAI_API_KEY the traffic goes to the demo's simulated provider on 127.0.0.1.
 */
import { parseArgs } from 'node:util';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { instrument } from 'inferometer';
import { createMeterProvider } from 'inferometer/sdk';
import { SAMPLE_OBJECTIVES, openSampleTarget, runSampleTraffic } from '../demo/sample-app.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '9464' },
    host: { type: 'string', default: '127.0.0.1' },
    requests: { type: 'string' },
  },
});
const port = Number(values.port);
const requests = values.requests === undefined ? undefined : Number(values.requests);

// 1. OpenTelemetry, once at start-up: a MeterProvider with inferometer's views (the semantic
//    conventions' bucket boundaries), registered globally, with the Prometheus exporter serving
//    /metrics. (The exporter treats port 0 as its default, 9464: pass a real port.)
const exporter = await new Promise<PrometheusExporter>((resolve, reject) => {
  const created: PrometheusExporter = new PrometheusExporter({ host: values.host, port }, (error) => (error ? reject(error) : resolve(created)));
});
const meterProvider = createMeterProvider({ readers: [exporter] });

// 2. The app's openai client, instrumented: requests that name no other class are `chat`;
//    objectives per class feed the goodput panels.
const target = await openSampleTarget();
const client = instrument(target.client, { workload: 'chat', slo: SAMPLE_OBJECTIVES });

console.log(`traffic to:  ${target.description}`);
console.log(`metrics:     http://${values.host}:${port}/metrics (Prometheus text format)`);

// 3. The app runs: chat questions and batch summaries until Ctrl-C (or --requests N).
const stop = new AbortController();
process.once('SIGINT', () => stop.abort());
const outcomes = await runSampleTraffic(target, client, { signal: stop.signal, ...(requests !== undefined ? { requests } : {}) });
console.log(`traffic done: ${outcomes.success} succeeded, ${outcomes.error} failed, ${outcomes.cancelled} cancelled`);
await target.close();

// Prometheus pulls: keep serving /metrics until Ctrl-C, so it can take the last scrape.
if (!stop.signal.aborted) {
  console.log('Still serving /metrics; press Ctrl-C to stop.');
  // The exporter's server does not keep the process alive by itself (it is unref'ed).
  const alive = setInterval(() => {}, 60_000);
  await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
  clearInterval(alive);
}
await meterProvider.shutdown(); // also stops the exporter's server
