/**
 * dashboards/grafana.json against a real Prometheus: the demo's workload runs with the
 * Prometheus exporter, Prometheus scrapes it on 127.0.0.1, and every query of every panel runs
 * through Prometheus' HTTP API. Each must return data, and the key values must agree with the
 * scorecard the demo computed from its own in-memory collection: per workload with every
 * provider, and per workload with `$provider` set to each provider the demo used (openai,
 * anthropic, gcp.gemini), against the scorecard's per-provider part of each workload.
 *
 * The output lists each panel's query and value: the proof that the dashboard works.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, SIMULATED_ENV, ensureBuilt, stop, waitForOutput } from './support/build.ts';
import { type GrafanaTarget, loadGrafanaDashboard, parseLabelValues, substitute } from './support/grafana.ts';
import { seriesNamesIn } from './support/metric-names.ts';
import { type Prometheus, type Sample, freePort, prometheusBinary, prometheusVersion, startPrometheus } from './support/prometheus.ts';
import {
  CHECKS,
  type Check,
  type DemoReport,
  MODEL_CHECKS,
  type ModelScore,
  PROVIDER_MODEL_CHECKS,
  type Pass,
  type Score,
  type Scores,
  cumulative,
  expectation,
  modelScores,
  rankSlack,
  rankVariants,
  sliceScores,
} from './support/scorecard-checks.ts';

const WORKLOADS = ['chat', 'batch', 'agent'];
/** The demo's providers (gen_ai.provider.name): chat on openai, batch on openai and gcp.gemini, agent on anthropic. */
const PROVIDERS = ['anthropic', 'gcp.gemini', 'openai'];
const SCRAPE_INTERVAL = '500ms';
const SEED = '42';
/**
 * What the simulated provider never sends, per provider (examples/demo/provider-ratelimit.ts):
 * Anthropic reports no processing time; Gemini no rate limits, no retry-after header and no
 * processing time. With `$provider` naming one, a query that reads any of these must answer
 * with no data, and every other query with data.
 */
const NOT_SENT: Readonly<Record<string, readonly string[]>> = {
  anthropic: ['inferometer_provider_processing_time'],
  'gcp.gemini': ['inferometer_provider_processing_time', 'inferometer_retry_after', 'inferometer_ratelimit_remaining', 'inferometer_ratelimit_limit', 'inferometer_ratelimit_reset'],
};
/** The base metric names a query reads (histogram suffixes removed). */
const metricsIn = (expr: string): string[] => seriesNamesIn(expr).map((n) => n.replace(/_(?:bucket|sum|count)$/, ''));

const dashboard = loadGrafanaDashboard();
let prometheus: Prometheus | undefined;
let demo: ChildProcess | undefined;
let workdir = '';
let report: DemoReport;
/** When every query is evaluated (Unix s), and the rate window that covers the whole run. */
let evalTime = 0;
let window = 0;
const lines: string[] = [];

const num = (v: number): string => (Number.isInteger(v) ? String(v) : Math.abs(v) >= 100 ? v.toFixed(1) : v.toPrecision(4));

async function query(expr: string): Promise<Sample[]> {
  return prometheus!.query(expr, evalTime);
}

describe('dashboards/grafana.json against a real Prometheus scraping the demo', () => {
  beforeAll(async () => {
    const binary = prometheusBinary(); // fails with the install command when Prometheus is missing
    ensureBuilt();
    workdir = await mkdtemp(join(tmpdir(), 'inferometer-e2e-'));
    const demoPort = await freePort();
    prometheus = await startPrometheus({ targets: [`127.0.0.1:${demoPort}`], scrapeInterval: SCRAPE_INTERVAL });
    lines.push(`${prometheusVersion(binary)} at ${prometheus.url}, scraping the demo at 127.0.0.1:${demoPort} every ${SCRAPE_INTERVAL}`);
    // Scraping from the demo's first request on: rate() cannot see what happened before a series' first scrape.
    await prometheus.firstScrape();

    const json = join(workdir, 'scorecard.json');
    demo = spawn(process.execPath, [join(ROOT, 'examples', 'demo', 'main.ts'), '--prom-port', String(demoPort), '--keep-serving', '--json', json, '--seed', SEED], {
      cwd: ROOT,
      env: SIMULATED_ENV,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stdout = await waitForOutput(demo, /press Ctrl-C to stop/, 90_000);
    report = JSON.parse(await readFile(json, 'utf8')) as DemoReport;
    lines.push('', 'The demo (examples/demo, default workload, seed 42) printed:', ...stdout.split('\n').filter((l) => !/^\s+\d+\.\ds\s+jobs/.test(l)));

    // Wait until Prometheus has scraped the final counts, then one scrape more.
    const total = Object.values(report.workloads).reduce((n, w) => n + w.requests.total, 0);
    const deadline = Date.now() + 15_000;
    for (;;) {
      const [sample] = await prometheus.query('sum(inferometer_requests_total)');
      if (sample?.value === total) break;
      if (Date.now() > deadline) throw new Error(`Prometheus holds ${sample?.value} requests, the demo counted ${total}\n${prometheus.log()}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    await new Promise((r) => setTimeout(r, 1000));
    evalTime = Date.now() / 1000;
    window = Math.ceil(evalTime - report.startedAt) + 1;
  }, 150_000);

  afterAll(async () => {
    if (demo !== undefined) expect(await stop(demo)).toBe(0);
    await prometheus?.close();
    if (workdir !== '') await rm(workdir, { recursive: true, force: true });
    if (lines.length > 0) console.log(lines.join('\n'));
  }, 30_000);

  it('has Prometheus scrape the demo on 127.0.0.1 without errors', async () => {
    const targets = await prometheus!.targets();
    expect(targets).toHaveLength(1);
    expect(targets[0]).toMatchObject({ health: 'up', lastError: '' });
  });

  it("fills the dashboard's template variables from the scraped series, each narrowed by those before it", async () => {
    const valuesOf = async (name: string, vars: Record<string, string>): Promise<string[]> => {
      const variable = dashboard.variables.find((v) => v.name === name)!;
      const { selector, label } = parseLabelValues(variable.definition!);
      const values = (await prometheus!.labelValues(label, substitute(selector, vars))).sort();
      lines.push(`variable $${name} = ${substitute(variable.definition!, vars)} -> ${values.join(', ')}`);
      return values;
    };
    const all = { workload: '.+', provider: '.+', model: '.+' };
    expect(dashboard.variables.filter((v) => v.type === 'query').map((v) => v.name)).toEqual(['workload', 'provider', 'model']);
    expect(await valuesOf('workload', all)).toEqual([...WORKLOADS].sort());
    expect(await valuesOf('provider', all)).toEqual(PROVIDERS);
    expect(await valuesOf('model', all)).toEqual(['claude-sonnet-4-6', 'gemini-2.5-flash', 'gpt-4o-mini']);
    // As the scorecard says: which providers served a workload, which models a provider served.
    expect(await valuesOf('provider', { ...all, workload: 'batch' })).toEqual([...report.workloads['batch']!.providers].sort());
    for (const provider of PROVIDERS) {
      const models = Object.values(report.byProvider[provider]!).flatMap((s) => s.models);
      expect(await valuesOf('model', { ...all, provider })).toEqual([...new Set(models)].sort());
    }
    expect(dashboard.variables.find((v) => v.name === 'datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' });
  });

  it('answers every query of every panel with data, as Grafana runs them; quantiles and rates agree with the scorecard', async () => {
    const vars = { workload: '.+', provider: '.+', model: '.+', __rate_interval: `${window}s`, __range: `${window}s` };
    lines.push(
      '',
      `Every query of "${dashboard.json.title}" (${dashboard.targets.length} queries in ${new Set(dashboard.targets.map((t) => t.panel)).size} panels),`,
      `evaluated at the end of the run with $workload=.+ (All), $provider=.+ (All), $model=.+ (All), $__rate_interval=$__range=${window}s (the whole run):`,
    );
    const { failures, compared } = await runPass('grafana', vars, (t) => substitute(t.expr, vars), report.workloads, new Set());
    expect(failures).toEqual([]);
    expect(compared).toBeGreaterThanOrEqual(40);
  });

  it('gives exactly the scorecard with the same queries over the cumulative counters (rate() and increase() removed)', async () => {
    // $__range stays for the lowest headroom over the run (a min_over_time of a gauge).
    const vars = { workload: '.+', provider: '.+', model: '.+', __range: `${window}s` };
    lines.push('', 'The same queries with rate(x[$__rate_interval]) and increase(x[$__range]) replaced by x, the counters since the demo started:');
    const { failures, compared } = await runPass('cumulative', vars, (t) => substitute(cumulative(t.expr), vars), report.workloads, new Set());
    expect(failures).toEqual([]);
    expect(compared).toBeGreaterThanOrEqual(75);
  });

  it("narrows every query to one provider when $provider names it, and agrees with the scorecard's part of each workload that provider served", async () => {
    const leaks: string[] = [];
    const failures: string[] = [];
    const compared: Record<string, number> = {};
    for (const provider of PROVIDERS) {
      const scores = report.byProvider[provider]!;
      const models = new Set(Object.values(scores).flatMap((s) => s.models));
      lines.push('', `$provider=${provider}: ${Object.keys(scores).join(', ')} (${[...models].join(', ')}), the same queries on both passes:`);
      compared[provider] = 0;
      for (const pass of ['grafana', 'cumulative'] as const) {
        const vars = { workload: '.+', provider, model: '.+', __rate_interval: `${window}s`, __range: `${window}s` };
        const build = (t: GrafanaTarget) => substitute(pass === 'grafana' ? t.expr : cumulative(t.expr), vars);
        const result = await runPass(pass, vars, build, scores, new Set(NOT_SENT[provider] ?? []), (target, sample) => {
          // Per-class series only of the classes this provider served; per-model series only of its models.
          const w = sample.metric['workload_class'];
          const m = sample.metric['gen_ai_request_model'];
          if ((w !== undefined && scores[w] === undefined) || (m !== undefined && !models.has(m))) leaks.push(`${provider} ${target.panel} ${target.refId}: ${labels(sample.metric)}`);
        });
        failures.push(...result.failures.map((f) => `$provider=${provider} ${pass}: ${f}`));
        compared[provider] += result.compared;
      }
    }
    expect(leaks).toEqual([]);
    expect(failures).toEqual([]);
    // Both passes: about as many values per class the provider served as the unfiltered passes compare.
    for (const provider of PROVIDERS) expect(compared[provider], provider).toBeGreaterThanOrEqual(30 * Object.keys(report.byProvider[provider]!).length);
  });

  it("holds exactly the demo's own counts and quantiles (raw counters and buckets, no rate())", async () => {
    lines.push('', 'Without rate(), the scraped series give exactly what the demo computed from its in-memory collection:');
    const failures: string[] = [];
    const compare = async (expr: string, expected: (s: Score, series: Record<string, string>) => number, rel = 0): Promise<void> => {
      lines.push('', `  ${expr}`);
      const samples = await query(expr);
      if (samples.length === 0) failures.push(`${expr}: no data`);
      for (const sample of sortSamples(samples)) {
        // Series of one provider are that provider's part of the workload.
        const provider = sample.metric['gen_ai_provider_name'];
        const scores = provider === undefined ? report.workloads : report.byProvider[provider]!;
        const want = expected(scores[sample.metric['workload_class']!]!, sample.metric);
        const ok = rel === 0 ? sample.value === want : Math.abs(sample.value - want) <= Math.abs(want) * rel;
        lines.push(`    ${labels(sample.metric)} = ${num(sample.value)}  scorecard ${num(want)}  ${ok ? 'ok' : 'MISMATCH'}`);
        if (!ok) failures.push(`${expr} ${labels(sample.metric)}: ${sample.value} != ${want}`);
      }
    };
    await compare('sum by (workload_class, inferometer_outcome) (inferometer_requests_total)', (s, m) => s.requests[m['inferometer_outcome'] as 'success']);
    await compare('sum by (workload_class, error_type) (inferometer_requests_total{inferometer_outcome="error"})', (s, m) =>
      Math.round(s.errorRates[m['error_type']!]! * s.requests.total),
    );
    await compare('sum by (workload_class) (inferometer_attempts_total)', (s) => s.attempts);
    await compare('sum by (workload_class, inferometer_slo_outcome) (inferometer_slo_requests_total)', (s, m) =>
      m['inferometer_slo_outcome'] === 'met' ? s.slo.met : s.slo.total - s.slo.met,
    );
    await compare('sum by (workload_class) (inferometer_cost_total)', (s) => s.spend, 1e-9);
    const quantiles: Array<[string, number, (s: Score) => number]> = [
      ['inferometer_time_to_first_token', 0.5, (s) => s.ttft.p50],
      ['inferometer_time_to_first_token', 0.95, (s) => s.ttft.p95],
      ['inferometer_time_to_first_token', 0.99, (s) => s.ttft.p99],
      ['gen_ai_client_operation_time_per_output_chunk', 0.99, (s) => s.chunkGap.p99],
      ['inferometer_max_chunk_gap', 0.99, (s) => s.maxChunkGapP99],
      ['inferometer_output_speed', 0.5, (s) => s.outputSpeedP50],
      ['gen_ai_client_operation_duration', 0.99, (s) => s.endToEndP99],
      ['inferometer_time_to_response_headers', 0.5, (s) => s.headers.p50],
      ['inferometer_time_to_response_headers', 0.95, (s) => s.headers.p95],
      // Only where a provider reports it (openai): chat and batch.
      ['inferometer_provider_processing_time', 0.5, (s) => s.processing.p50 ?? Number.NaN],
    ];
    for (const [metric, q, pick] of quantiles) {
      await compare(`histogram_quantile(${q}, sum by (le, workload_class) (${metric}_bucket))`, pick, 1e-9);
    }
    // And per provider: each provider's part of each workload.
    await compare('sum by (workload_class, gen_ai_provider_name, inferometer_outcome) (inferometer_requests_total)', (s, m) => s.requests[m['inferometer_outcome'] as 'success']);
    await compare('sum by (workload_class, gen_ai_provider_name) (inferometer_attempts_total)', (s) => s.attempts);
    await compare('sum by (workload_class, gen_ai_provider_name) (inferometer_cost_total)', (s) => s.spend, 1e-9);
    for (const [metric, q, pick] of quantiles) {
      await compare(`histogram_quantile(${q}, sum by (le, workload_class, gen_ai_provider_name) (${metric}_bucket))`, pick, 1e-9);
    }
    // And per provider and model, whichever workload sent the requests (byModel).
    const compareModels = async (expr: string, expected: (m: ModelScore) => number | null): Promise<void> => {
      lines.push('', `  ${expr}`);
      const samples = await query(expr);
      if (samples.length === 0) failures.push(`${expr}: no data`);
      for (const sample of sortSamples(samples)) {
        const score = report.byModel[sample.metric['gen_ai_provider_name']!]?.[sample.metric['gen_ai_request_model']!];
        const want = score === undefined ? Number.NaN : expected(score) ?? Number.NaN;
        const ok = Math.abs(sample.value - want) <= Math.abs(want) * 1e-9;
        lines.push(`    ${labels(sample.metric)} = ${num(sample.value)}  scorecard ${num(want)}  ${ok ? 'ok' : 'MISMATCH'}`);
        if (!ok) failures.push(`${expr} ${labels(sample.metric)}: ${sample.value} != ${want}`);
      }
    };
    await compareModels('sum by (gen_ai_provider_name, gen_ai_request_model) (inferometer_attempts_total{http_response_status_code="429"})', (m) => m.rateLimited);
    await compareModels('histogram_quantile(0.95, sum by (le, gen_ai_provider_name, gen_ai_request_model) (inferometer_retry_after_bucket))', (m) => m.retryAfterP95);
    await compareModels('histogram_quantile(0.5, sum by (le, gen_ai_provider_name, gen_ai_request_model) (inferometer_time_to_response_headers_bucket))', (m) => m.headers.p50);
    await compareModels('histogram_quantile(0.5, sum by (le, gen_ai_provider_name, gen_ai_request_model) (inferometer_provider_processing_time_bucket))', (m) => m.processing.p50);
    expect(failures).toEqual([]);
  });

  it("sees the demo's rate-limit headroom fall before its 429s, for every provider that reports its quotas", async () => {
    // Each quota's lowest headroom in Prometheus (scraped every 500 ms) against the demo's (sampled every 100 ms).
    const lowest = await query(
      `min by (gen_ai_provider_name, gen_ai_request_model, inferometer_ratelimit_resource) (min_over_time((inferometer_ratelimit_remaining / inferometer_ratelimit_limit)[${window}s:]))`,
    );
    lines.push('', 'Rate-limit headroom, lowest over the run (Prometheus) and as the demo sampled it, and when the first 429 came:');
    const seen = new Set(lowest.map((s) => `${s.metric['gen_ai_provider_name']} ${s.metric['gen_ai_request_model']}`));
    // The providers whose APIs send rate-limit headers: openai and anthropic; gcp.gemini sends none.
    expect([...seen].sort()).toEqual(['anthropic claude-sonnet-4-6', 'openai gpt-4o-mini']);
    for (const sample of lowest) {
      const m = report.byModel[sample.metric['gen_ai_provider_name']!]![sample.metric['gen_ai_request_model']!]!;
      const demo = m.headroom[sample.metric['inferometer_ratelimit_resource']!]!;
      const at = (t: number | null) => (t === null ? '-' : `${t.toFixed(2)} s`);
      lines.push(`    ${labels(sample.metric)}: Prometheus ${num(sample.value)}, demo ${num(demo.lowest)}; first under 10% at ${at(m.lowAt)}, first 429 at ${at(m.first429At)}`);
      expect(sample.value).toBeGreaterThanOrEqual(0);
      expect(sample.value).toBeLessThanOrEqual(1);
    }
    // Every 429 came from a quota running out, and the headroom showed it first (within a sample).
    const limited = Object.values(report.byModel).flatMap((models) => Object.values(models)).filter((m) => m.rateLimited > 0 && Object.keys(m.headroom).length > 0);
    expect(limited.length).toBeGreaterThan(0);
    for (const m of limited) {
      expect(m.lowAt, `${m.model}: headroom never under 10% before its 429s`).not.toBeNull();
      expect(m.first429At! + 0.1, `${m.model}: the first 429 came before the headroom fell`).toBeGreaterThanOrEqual(m.lowAt!);
    }
  });

  it('narrows every query to one class when $workload names it', async () => {
    const leaks: string[] = [];
    for (const workload of WORKLOADS) {
      const vars = { workload, provider: '.+', model: '.+', __rate_interval: `${window}s`, __range: `${window}s` };
      const models = report.workloads[workload]!.models;
      for (const target of dashboard.targets) {
        for (const sample of await query(substitute(target.expr, vars))) {
          const w = sample.metric['workload_class'];
          const m = sample.metric['gen_ai_request_model'];
          // Per-class series must be the class's; per-model series only of the class's models.
          if ((w !== undefined && w !== workload) || (m !== undefined && !models.includes(m))) leaks.push(`${target.panel} ${target.refId}: ${labels(sample.metric)}`);
        }
      }
    }
    expect(leaks).toEqual([]);
  });
});

function sortSamples(samples: Sample[]): Sample[] {
  const rank = (s: Sample) => {
    const w = WORKLOADS.indexOf(s.metric['workload_class'] ?? '');
    return w === -1 ? WORKLOADS.length : w;
  };
  return [...samples].sort((a, b) => rank(a) - rank(b) || labels(a.metric).localeCompare(labels(b.metric)));
}

function labels(metric: Record<string, string>): string {
  return Object.entries(metric)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

/**
 * Runs every query of the dashboard and compares its values with `scores` (per workload class;
 * per-model series with the one part of a workload that used the model). Prints every query and
 * value when `inspect` is not given; `inspect` sees every sample instead.
 */
async function runPass(
  pass: Pass,
  vars: Record<string, string>,
  build: (t: GrafanaTarget) => string,
  scores: Scores,
  notSent: ReadonlySet<string>,
  inspect?: (target: GrafanaTarget, sample: Sample) => void,
): Promise<{ failures: string[]; compared: number }> {
  const failures: string[] = [];
  let compared = 0;
  const byModel = modelScores(report);
  const slices = sliceScores(report);
  const print = inspect === undefined ? (line: string) => lines.push(line) : () => undefined;
  for (const target of dashboard.targets) {
    const expr = build(target);
    if (/\$|\[\[/.test(expr)) throw new Error(`unsubstituted variable left in ${expr}`);
    const samples = await query(expr);
    print('');
    print(`[${target.panel}] ${target.refId}`);
    print(`  ${expr}`);
    const unsent = metricsIn(expr).filter((m) => notSent.has(m));
    if (unsent.length > 0) {
      // The provider never sends what this query reads: data here would come from another provider.
      if (samples.length > 0) failures.push(`${target.panel} ${target.refId}: data, though the provider sends no ${unsent.join(', ')}`);
      print(`  -> no data, as expected: the provider sends no ${unsent.join(', ')}`);
      continue;
    }
    if (samples.length === 0 || samples.every((s) => !Number.isFinite(s.value))) {
      failures.push(`${target.panel} ${target.refId}: no data`);
      print('  -> NO DATA');
      continue;
    }
    // A quantile as Grafana runs it: its cumulative value a few percent of rank either side bounds it.
    const key = `${target.panel}#${target.refId}`;
    const envelopes = new Map<string, { lo: number; hi: number }>();
    if (pass === 'grafana' && [CHECKS[key], MODEL_CHECKS[key], PROVIDER_MODEL_CHECKS[key]].some((c) => c?.kind === 'quantile')) {
      for (const variant of rankVariants(substitute(cumulative(target.expr), vars), rankSlack)) {
        for (const s of await query(variant)) {
          const e = envelopes.get(labels(s.metric)) ?? { lo: Number.POSITIVE_INFINITY, hi: Number.NEGATIVE_INFINITY };
          envelopes.set(labels(s.metric), { lo: Math.min(e.lo, s.value), hi: Math.max(e.hi, s.value) });
        }
      }
    }
    for (const sample of sortSamples(samples)) {
      inspect?.(target, sample);
      const series = sample.metric;
      let line = `    ${labels(series).padEnd(52)} ${num(sample.value).padStart(10)}`;
      const workload = series['workload_class'];
      const model = series['gen_ai_request_model'];
      const provider = series['gen_ai_provider_name'];
      // Per workload (and model: the part of the workload that used it); per provider and model; per model.
      const [check, score] = (
        workload !== undefined
          ? [CHECKS[key], model !== undefined ? slices.get(`${workload}|${model}`) : scores[workload]]
          : provider !== undefined && model !== undefined && PROVIDER_MODEL_CHECKS[key] !== undefined
            ? [PROVIDER_MODEL_CHECKS[key], report.byModel[provider]?.[model]]
            : model !== undefined
              ? [MODEL_CHECKS[key], byModel.get(model)]
              : [undefined, undefined]
      ) as [Check<Score | ModelScore> | undefined, Score | ModelScore | undefined];
      const envelope = envelopes.get(labels(series));
      const want = check === undefined || score === undefined ? undefined : expectation(check, pass, { score, window, ...(envelope ? { envelope } : {}) }, series);
      if (want !== undefined && Number.isFinite(want.value)) {
        compared++;
        const ok = sample.value >= want.lo - 1e-15 && sample.value <= want.hi + 1e-15;
        const range = want.what === 'exactly' ? 'exactly' : `${num(want.lo)} to ${num(want.hi)}, ${want.what}`;
        line += `   scorecard ${num(want.value)} (${range}) ${ok ? 'ok' : 'DISAGREES'}`;
        if (!ok) failures.push(`${target.panel} ${target.refId} ${labels(series)}: ${sample.value}, scorecard ${want.value} (${range})`);
      }
      print(line);
    }
  }
  print('');
  lines.push(`${inspect === undefined ? '' : '  '}${pass} pass: ${dashboard.targets.length} queries, all answered with data; ${compared} values compared with the scorecard, ${failures.length} disagree`);
  return { failures, compared };
}
