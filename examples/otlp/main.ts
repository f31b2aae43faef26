/**
 * inferometer -> OTLP/HTTP -> an OpenTelemetry Collector (collector.yaml) -> anything.
 *
 *   npx tsup && node examples/otlp/main.ts [--requests N] [--interval MS]
 *
 * The endpoint comes from the standard variables, OTEL_EXPORTER_OTLP_ENDPOINT (base URL) or
 * OTEL_EXPORTER_OTLP_METRICS_ENDPOINT (full URL); default http://localhost:4318/v1/metrics.
 * Without OPENAI_API_KEY the traffic goes to the demo's simulated provider on 127.0.0.1.
 */
import { parseArgs } from 'node:util';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { instrument } from 'inferometer';
import { createMeterProvider } from 'inferometer/sdk';
import { SAMPLE_OBJECTIVES, openSampleTarget, runSampleTraffic } from '../demo/sample-app.ts';

const { values } = parseArgs({
  options: {
    requests: { type: 'string' },
    interval: { type: 'string', default: '10000' },
  },
});
const requests = values.requests === undefined ? undefined : Number(values.requests);

// 1. OpenTelemetry, once at start-up: OTLP/HTTP (JSON) every --interval ms, cumulative
//    temporality (what a Collector's Prometheus exporter wants), inferometer's explicit buckets.
const exporter = new OTLPMetricExporter();
const meterProvider = createMeterProvider({
  readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: Number(values.interval) })],
});

// 2. The app's openai client, instrumented.
const target = await openSampleTarget();
const client = instrument(target.client, { workload: 'chat', slo: SAMPLE_OBJECTIVES });
const endpoint = process.env['OTEL_EXPORTER_OTLP_METRICS_ENDPOINT'] || `${process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] || 'http://localhost:4318'}/v1/metrics`;
console.log(`traffic to:  ${target.description}`);
console.log(`metrics:     OTLP/HTTP to ${endpoint} every ${values.interval} ms`);

// 3. The app runs until Ctrl-C (or --requests N); shutdown() exports what is left.
const stop = new AbortController();
process.once('SIGINT', () => stop.abort());
const outcomes = await runSampleTraffic(target, client, { signal: stop.signal, ...(requests !== undefined ? { requests } : {}) });
console.log(`traffic done: ${outcomes.success} succeeded, ${outcomes.error} failed, ${outcomes.cancelled} cancelled`);
await target.close();
await meterProvider.shutdown();
console.log('metrics flushed');
