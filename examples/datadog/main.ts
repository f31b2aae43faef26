/**
 * inferometer -> OTLP/HTTP -> the Datadog Agent's OTLP intake -> Datadog.
 *
 *   npx tsup && node examples/datadog/main.ts [--requests N] [--interval MS]
 *
 * The Agent listens for OTLP/HTTP on port 4318 once its OTLP intake is enabled (see README.md);
 * the endpoint comes from OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_METRICS_ENDPOINT,
 * default http://localhost:4318/v1/metrics. Without OPENAI_API_KEY the traffic goes to the demo's
 * simulated provider on 127.0.0.1.
 */
import { parseArgs } from 'node:util';
import { AggregationTemporalityPreference, OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
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

// 1. OpenTelemetry, once at start-up, with the two settings Datadog wants:
//    - delta temporality: each export carries what happened since the last one. Datadog stores
//      counts and distributions as deltas; from cumulative points the Agent must keep state and
//      drops the first point of every series (and of every app restart);
//    - base-2 exponential histograms: the Agent turns them into Datadog distributions (DDSketch)
//      with their full resolution, so p50/p95/p99 are accurate across hosts, where explicit
//      buckets can only be approximated. The Agent accepts exponential histograms only as deltas.
const exporter = new OTLPMetricExporter({ temporalityPreference: AggregationTemporalityPreference.DELTA });
const meterProvider = createMeterProvider({
  readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: Number(values.interval) })],
  histograms: 'exponential',
});

// 2. The app's openai client, instrumented.
const target = await openSampleTarget();
const client = instrument(target.client, { workload: 'chat', slo: SAMPLE_OBJECTIVES });
const endpoint = process.env['OTEL_EXPORTER_OTLP_METRICS_ENDPOINT'] || `${process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] || 'http://localhost:4318'}/v1/metrics`;
console.log(`traffic to:  ${target.description}`);
console.log(`metrics:     OTLP/HTTP (delta, exponential histograms) to ${endpoint} every ${values.interval} ms`);

// 3. The app runs until Ctrl-C (or --requests N); shutdown() exports what is left.
const stop = new AbortController();
process.once('SIGINT', () => stop.abort());
const outcomes = await runSampleTraffic(target, client, { signal: stop.signal, ...(requests !== undefined ? { requests } : {}) });
console.log(`traffic done: ${outcomes.success} succeeded, ${outcomes.error} failed, ${outcomes.cancelled} cancelled`);
await target.close();
await meterProvider.shutdown();
console.log('metrics flushed');
