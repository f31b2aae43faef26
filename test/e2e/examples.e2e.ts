/**
 * The examples, run as users run them (`node examples/NAME/main.ts`, importing the built
 * package by its name), each against what it exports to: a real Prometheus for
 * examples/prometheus, an OTLP/HTTP receiver in place of the Collector and of the Datadog Agent
 * for examples/otlp and examples/datadog, and a browser-like client for examples/http-chat.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { DURATION_BUCKETS } from 'inferometer';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, SIMULATED_ENV, ensureBuilt, stop, waitForOutput } from './support/build.ts';
import { loadGrafanaDashboard, substitute } from './support/grafana.ts';
import { CONDITIONAL, METRICS, PROMETHEUS_SERIES, prometheusName, seriesNamesIn } from './support/metric-names.ts';
import { CUMULATIVE, DELTA, type OtlpMetric, attributesOf, startOtlpReceiver, valueOf } from './support/otlp-receiver.ts';
import { freePort, prometheusBinary, startPrometheus } from './support/prometheus.ts';

const children: ChildProcess[] = [];
const cleanups: Array<() => Promise<unknown>> = [];

function example(name: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  const child = spawn(process.execPath, [join(ROOT, 'examples', name, 'main.ts'), ...args], {
    cwd: ROOT,
    env: { ...SIMULATED_ENV, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return child;
}

/** Resolves with the exit code and the output of a child that runs to its end. */
function finished(child: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

const requestsIn = (stdout: string): number => {
  const m = /traffic done: (\d+) succeeded, (\d+) failed, (\d+) cancelled/.exec(stdout);
  if (m === null) throw new Error(`no "traffic done" line in:\n${stdout}`);
  return Number(m[1]) + Number(m[2]) + Number(m[3]);
};

/**
 * The metrics an app must have exported after attempts answered with these HTTP statuses: all of
 * them, but a conditional one only once what it records happened (and then it must be there).
 */
function expectedMetrics(statuses: ReadonlySet<number>): Set<string> {
  return new Set([...METRICS.keys()].filter((m) => CONDITIONAL.get(m)?.happened(statuses) ?? true));
}

/** The HTTP statuses of the attempts in OTLP exports (`http.response.status_code` of `inferometer.attempts`). */
function otlpStatuses(metrics: OtlpMetric[]): Set<number> {
  const points = metrics.filter((m) => m.name === 'inferometer.attempts').flatMap((m) => m.sum?.dataPoints ?? []);
  return new Set(points.map((p) => attributesOf(p)['http.response.status_code']).filter((s) => s !== undefined).map(Number));
}

beforeAll(ensureBuilt, 60_000);
afterEach(async () => {
  for (const child of children.splice(0)) await stop(child);
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describe('examples/prometheus', () => {
  it('ships a prometheus.yml that Prometheus accepts', () => {
    const promtool = join(dirname(prometheusBinary()), 'promtool');
    for (const file of ['examples/prometheus/prometheus.yml', 'examples/otlp/prometheus.yml']) {
      expect(execFileSync(promtool, ['check', 'config', join(ROOT, file)], { encoding: 'utf8' })).toContain('SUCCESS');
    }
  });

  it('serves every inferometer metric under the names the Grafana dashboard queries, and a real Prometheus scrapes them', async () => {
    const port = await freePort();
    const prometheus = await startPrometheus({ targets: [`127.0.0.1:${port}`], scrapeInterval: '500ms' });
    cleanups.push(() => prometheus.close());
    await prometheus.firstScrape(); // scraping before the app starts, so rate() sees its traffic
    const app = example('prometheus', ['--port', String(port), '--requests', '24']);
    const stdout = await waitForOutput(app, /press Ctrl-C to stop/, 60_000);
    expect(stdout).toContain(`metrics:     http://127.0.0.1:${port}/metrics`);
    const requests = requestsIn(stdout);
    expect(requests).toBe(24);

    const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const types = new Map([...body.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
    const statuses = new Set([...body.matchAll(/^inferometer_attempts_total\{[^}]*http_response_status_code="(\d+)"/gm)].map((m) => Number(m[1])));
    const expected = expectedMetrics(statuses);
    for (const metric of METRICS.keys()) {
      const { name, type } = prometheusName(metric);
      // A conditional metric is served once what it records happened, and not before.
      expect(types.get(name), `${metric} -> ${name}`).toBe(expected.has(metric) ? type : undefined);
    }
    expect(body).toMatch(/^inferometer_ratelimit_remaining\{[^}]*inferometer_ratelimit_resource="requests"[^}]*\} \d+/m);
    for (const workload of ['chat', 'batch']) expect(body).toContain(`workload_class="${workload}"`);

    // Every series name the Grafana dashboard uses is one of them.
    const used = new Set(loadGrafanaDashboard().targets.flatMap((t) => seriesNamesIn(t.expr)));
    for (const name of used) expect(PROMETHEUS_SERIES.has(name), name).toBe(true);

    // Prometheus sees every request, and a dashboard query answers for both classes.
    const deadline = Date.now() + 15_000;
    for (;;) {
      const [sample] = await prometheus.query('sum(inferometer_requests_total)');
      if (sample?.value === requests) break;
      if (Date.now() > deadline) throw new Error(`Prometheus holds ${sample?.value ?? 'no'} requests, the app made ${requests}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const ttft = loadGrafanaDashboard().targets.find((t) => t.panel.startsWith('Time to first token') && t.refId === 'B')!;
    const samples = await prometheus.query(substitute(ttft.expr, { workload: '.+', provider: '.+', model: '.+', __rate_interval: '1m' }));
    expect(samples.map((s) => s.metric['workload_class']).sort()).toEqual(['batch', 'chat']);
    for (const s of samples) expect(s.value).toBeGreaterThan(0);

    expect(await stop(app, 10_000)).toBe(0); // Ctrl-C
  });
});

describe('examples/otlp', () => {
  it('sends every inferometer metric over OTLP/HTTP (JSON), cumulative, with the conventions\' explicit buckets', async () => {
    const receiver = await startOtlpReceiver();
    cleanups.push(() => receiver.close());
    const run = finished(example('otlp', ['--requests', '16', '--interval', '500'], { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint }));
    const { code, stdout, stderr } = await run;
    expect(code, stderr).toBe(0);
    expect(stdout).toContain(`OTLP/HTTP to ${receiver.endpoint}/v1/metrics`);
    expect(stdout).toContain('metrics flushed');
    expect(receiver.contentTypes.length).toBeGreaterThan(0);
    for (const type of receiver.contentTypes) expect(type).toMatch(/^application\/json/);

    const metrics = receiver.metrics();
    expect(new Set(metrics.map((m) => m.name))).toEqual(expectedMetrics(otlpStatuses(metrics)));
    for (const m of metrics) {
      if (METRICS.get(m.name) === 'histogram') {
        expect(m.histogram, m.name).toBeDefined();
        expect(m.histogram!.aggregationTemporality).toBe(CUMULATIVE);
      } else if (METRICS.get(m.name) === 'gauge') {
        expect(m.gauge?.dataPoints.length, m.name).toBeGreaterThan(0);
      } else {
        expect(m.sum!.aggregationTemporality, m.name).toBe(CUMULATIVE);
        expect(m.sum!.isMonotonic ?? false, m.name).toBe(METRICS.get(m.name) === 'counter');
      }
    }
    const ttft = metrics.findLast((m) => m.name === 'inferometer.time_to_first_token')!;
    for (const point of ttft.histogram!.dataPoints) expect(point.explicitBounds).toEqual([...DURATION_BUCKETS]);

    // Cumulative: the last export holds every request, per class.
    const last = metrics.findLast((m) => m.name === 'inferometer.requests')!;
    expect(last.sum!.dataPoints.reduce((n, p) => n + valueOf(p), 0)).toBe(requestsIn(stdout));
    expect(new Set(last.sum!.dataPoints.map((p) => attributesOf(p)['workload.class']))).toEqual(new Set(['chat', 'batch']));
  });
});

describe('examples/datadog', () => {
  it('sends delta counters and delta base-2 exponential histograms, which the Datadog Agent maps to counts and distributions', async () => {
    const receiver = await startOtlpReceiver();
    cleanups.push(() => receiver.close());
    const { code, stdout, stderr } = await finished(
      example('datadog', ['--requests', '16', '--interval', '500'], { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${receiver.endpoint}/v1/metrics` }),
    );
    expect(code, stderr).toBe(0);
    expect(stdout).toContain('(delta, exponential histograms)');

    const metrics = receiver.metrics();
    const statuses = otlpStatuses(metrics);
    expect(new Set(metrics.map((m) => m.name))).toEqual(expectedMetrics(statuses));
    for (const m of metrics) {
      const kind = METRICS.get(m.name);
      if (kind === 'histogram') {
        expect(m.exponentialHistogram, m.name).toBeDefined();
        expect(m.exponentialHistogram!.aggregationTemporality, m.name).toBe(DELTA);
      } else if (kind === 'gauge') {
        // A gauge has no temporality: Datadog keeps it a gauge.
        expect(m.gauge?.dataPoints.length, m.name).toBeGreaterThan(0);
      } else if (kind === 'counter') {
        expect(m.sum!.aggregationTemporality, m.name).toBe(DELTA);
        expect(m.sum!.isMonotonic, m.name).toBe(true);
      } else {
        // An up-down counter stays cumulative (a level, not a count): Datadog maps it to a gauge.
        expect(m.sum!.aggregationTemporality, m.name).toBe(CUMULATIVE);
        expect(m.sum!.isMonotonic ?? false, m.name).toBe(false);
      }
    }
    // Deltas: the exports add up to every request.
    const requests = metrics.filter((m) => m.name === 'inferometer.requests').flatMap((m) => m.sum!.dataPoints);
    expect(requests.reduce((n, p) => n + valueOf(p), 0)).toBe(requestsIn(stdout));
    const ttft = metrics.filter((m) => m.name === 'inferometer.time_to_first_token').flatMap((m) => m.exponentialHistogram!.dataPoints);
    expect(ttft.reduce((n, p) => n + Number(p.count ?? 0), 0)).toBeGreaterThan(0);

    // Every metric and tag the Datadog dashboard uses arrived.
    const { metricNames, tagKeys } = await import('./support/datadog.ts').then((d) => d.datadogUsage());
    const arrived = new Set(metrics.map((m: OtlpMetric) => m.name));
    const expected = expectedMetrics(statuses);
    for (const name of metricNames) expect(arrived.has(name), name).toBe(expected.has(name));
    const keys = new Set(metrics.flatMap((m) => [m.sum, m.gauge, m.exponentialHistogram].flatMap((d) => d?.dataPoints ?? []).flatMap((p) => Object.keys(attributesOf(p)))));
    // error.type and inferometer.slo.missed appear only once a request fails or misses an objective.
    for (const key of tagKeys) if (key !== 'error.type' && key !== 'inferometer.slo.missed') expect(keys.has(key), key).toBe(true);
  });
});

describe('examples/http-chat', () => {
  it('streams an answer to the browser as Server-Sent Events, records it as web-chat, and a closed tab as cancelled', async () => {
    const server = example('http-chat', ['--port', '0']);
    const stdout = await waitForOutput(server, /metrics: +http:\/\/127\.0\.0\.1:\d+\/metrics/, 30_000);
    const base = /chat: +(http:\/\/127\.0\.0\.1:\d+)\//.exec(stdout)![1]!;

    const page = await (await fetch(`${base}/`)).text();
    expect(page).toContain("new EventSource('/chat?q='");

    // A whole answer.
    const res = await fetch(`${base}/chat?q=${encodeURIComponent('What does HTTP 429 mean?')}`);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const sse = await res.text();
    const texts = [...sse.matchAll(/^data: (\{"text".*\})$/gm)].map((m) => (JSON.parse(m[1]!) as { text: string }).text);
    expect(texts.length).toBeGreaterThan(3);
    expect(sse).toMatch(/event: done\n/);

    // A tab closed after the first chunk.
    const controller = new AbortController();
    const partial = await fetch(`${base}/chat?q=hi`, { signal: controller.signal });
    const reader = partial.body!.getReader();
    await reader.read();
    controller.abort();

    const deadline = Date.now() + 10_000;
    let metrics = '';
    const count = (outcome: string): number =>
      [...metrics.matchAll(new RegExp(`^inferometer_requests_total\\{[^}]*workload_class="web-chat"[^}]*inferometer_outcome="${outcome}"[^}]*\\} (\\d+)`, 'gm'))].reduce(
        (n, m) => n + Number(m[1]),
        0,
      );
    while (Date.now() < deadline) {
      metrics = await (await fetch(`${base}/metrics`)).text();
      if (count('success') === 1 && count('cancelled') === 1) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect({ success: count('success'), cancelled: count('cancelled') }).toEqual({ success: 1, cancelled: 1 });
    expect(metrics).toMatch(/^inferometer_time_to_first_token_bucket\{[^}]*workload_class="web-chat"/m);
    expect(metrics).toMatch(/^inferometer_slo_requests_total\{[^}]*workload_class="web-chat"/m);

    expect(await stop(server, 10_000)).toBe(0); // Ctrl-C
  });
});
