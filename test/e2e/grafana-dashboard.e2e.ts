/**
 * dashboards/grafana.json against a real Prometheus: the demo's workload runs with the
 * Prometheus exporter, Prometheus scrapes it on 127.0.0.1, and every query of every panel runs
 * through Prometheus' HTTP API. Each must return data, and the key values must agree with the
 * scorecard the demo computed from its own in-memory collection.
 *
 * The output lists each panel's query and value: the proof that the dashboard works.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DURATION_BUCKETS, SPEED_BUCKETS } from 'inferometer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, SIMULATED_ENV, ensureBuilt, stop, waitForOutput } from './support/build.ts';
import { type GrafanaTarget, loadGrafanaDashboard, parseLabelValues, substitute } from './support/grafana.ts';
import { type Prometheus, type Sample, freePort, prometheusBinary, prometheusVersion, startPrometheus } from './support/prometheus.ts';

/** One workload of the demo's `--json` scorecard (examples/demo/scorecard.ts, `scorecardJson`). */
interface Score {
  requests: { success: number; error: number; cancelled: number; total: number };
  ttft: { p50: number; p95: number; p99: number };
  chunkGap: { p50: number; p99: number };
  maxChunkGapP99: number;
  outputSpeedP50: number;
  endToEndP99: number;
  errorRates: Record<string, number>;
  errorRate: number;
  availability: number;
  attempts: number;
  retriesPerRequest: number;
  slo: { met: number; total: number };
  goodput: number;
  spend: number;
  costPerAnswer: number;
  wasted: number;
}
interface DemoReport {
  startedAt: number;
  collectedAt: number;
  workloads: Record<string, Score>;
}

const WORKLOADS = ['chat', 'batch', 'agent'];
/** The demo's models: chat and batch share gpt-4o-mini, so only gpt-4o (the agent's) maps to one scorecard column. */
const AGENT_MODEL = 'gpt-4o';
const SCRAPE_INTERVAL = '500ms';
const SEED = '42';

// ---------------------------------------------------------------------------------------------
// What the scorecard says each query should show, and how closely.
//
// Every query runs twice. First as Grafana runs it, with the rate window covering the whole run.
// rate() sees a series only from its first scrape on, and extrapolates to the window's edges:
// on a 20-s run, a series born mid-run with one or two increments (an error type, a retry
// status, a missed objective) loses most of them, so ratios of such counters read low, while
// quantiles (buckets that all scale alike) stay within the histogram's resolution and the dense
// counters within a few percent. Then with every `rate(x[$__rate_interval])` and
// `increase(x[$__range])` replaced by `x`, the counters since the demo started: the same
// expressions must then give exactly the scorecard's numbers, which proves each formula.

interface Context {
  readonly score: Score;
  /** The rate window of the first pass, in seconds. */
  readonly window: number;
}
type Pick = (score: Score, series: Record<string, string>) => number | undefined;
type Check =
  /** A quantile: within the width of the bucket the scorecard's value falls in (the resolution of the histogram); exact on the cumulative pass. */
  | { readonly kind: 'quantile'; readonly pick: Pick; readonly resolution: (score: Score) => number }
  /** A ratio of counters: compared on the cumulative pass only. */
  | { readonly kind: 'ratio'; readonly pick: Pick }
  /**
   * A count per `per` seconds (NaN: a count over the window, increase()): count / window within
   * 15% when the count comes from many increments (at least `dense`), else on the cumulative pass
   * only; count x per exactly on the cumulative pass.
   */
  | { readonly kind: 'rate'; readonly count: Pick; readonly per: number; readonly dense: (count: number) => boolean }
  /** The same on both passes. */
  | { readonly kind: 'exact'; readonly pick: Pick };

const RATE_TOLERANCE = 0.15;
/** Requests counted as a rate: 20 or more (one cancelled chat answer is no rate). */
const manyRequests = (n: number): boolean => n >= 20;
/** Spend of every request of a class: many increments. */
const always = (): boolean => true;
/** Spend of the few failed and cancelled requests: a handful of increments. */
const never = (): boolean => false;

/** Width of the bucket that holds `value`: the resolution of a quantile read from that histogram. */
function bucketWidth(boundaries: readonly number[], value: number): number {
  const i = boundaries.findIndex((b) => value <= b);
  if (i === -1) return Number.POSITIVE_INFINITY; // the +Inf bucket: histogram_quantile answers the last bound
  return boundaries[i]! - (i === 0 ? 0 : boundaries[i - 1]!);
}
const quantile = (boundaries: readonly number[], pick: (s: Score) => number): Check => ({
  kind: 'quantile',
  pick,
  resolution: (s) => bucketWidth(boundaries, pick(s)),
});
const ratio = (pick: Pick): Check => ({ kind: 'ratio', pick });
const OUTCOMES = ['success', 'error', 'cancelled'] as const;
const outcomeCount = (s: Score, series: Record<string, string>): number | undefined => {
  const outcome = OUTCOMES.find((o) => o === series['inferometer_outcome']);
  return outcome === undefined ? undefined : s.requests[outcome];
};

/** `panel title#refId` -> its check, for the series of one workload class. */
const CHECKS: Readonly<Record<string, Check>> = {
  'Time to first token p50 / p95 / p99#A': quantile(DURATION_BUCKETS, (s) => s.ttft.p50),
  'Time to first token p50 / p95 / p99#B': quantile(DURATION_BUCKETS, (s) => s.ttft.p95),
  'Time to first token p50 / p95 / p99#C': quantile(DURATION_BUCKETS, (s) => s.ttft.p99),
  'TTFT spread (p95 - p50)#A': {
    kind: 'quantile',
    pick: (s) => s.ttft.p95 - s.ttft.p50,
    resolution: (s) => bucketWidth(DURATION_BUCKETS, s.ttft.p95) + bucketWidth(DURATION_BUCKETS, s.ttft.p50),
  },
  'Time to first chunk vs first token, p95#B': quantile(DURATION_BUCKETS, (s) => s.ttft.p95),
  'Stalls: gap between chunks p99#A': quantile(DURATION_BUCKETS, (s) => s.chunkGap.p99),
  'Stalls: worst gap per request p99#A': quantile(DURATION_BUCKETS, (s) => s.maxChunkGapP99),
  'Output speed median (tokens/s)#A': quantile(SPEED_BUCKETS, (s) => s.outputSpeedP50),
  'Completed requests per hour#A': { kind: 'rate', count: (s) => s.requests.success, per: 3600, dense: manyRequests },
  'End-to-end latency p95 / p99#B': quantile(DURATION_BUCKETS, (s) => s.endToEndP99),
  'Availability: success / (success + error)#A': ratio((s) => s.availability),
  'Error rate by error.type#A': ratio((s, series) => s.errorRates[series['error_type']!] ?? 0),
  'Rate limits: 429s among attempts, and requests lost to them#B': ratio((s) => s.errorRates['429'] ?? 0),
  'Retries per request#A': ratio((s) => s.retriesPerRequest),
  'Error rate, all types#A': ratio((s) => s.errorRate),
  'Cost per completed answer#A': ratio((s) => s.costPerAnswer),
  'Spend per hour by outcome#A': { kind: 'rate', count: (s, series) => (series['inferometer_outcome'] === 'success' ? s.spend - s.wasted : undefined), per: 3600, dense: always },
  'Wasted spend (failed + cancelled)#A': { kind: 'rate', count: (s) => s.wasted, per: 3600, dense: never },
  'Wasted spend (failed + cancelled)#B': ratio((s) => s.wasted / s.spend),
  'Spend in the selected time range#A': { kind: 'rate', count: (s) => s.spend, per: Number.NaN, dense: always },
  'Goodput: met / total#A': ratio((s) => s.goodput),
  'Active requests#A': { kind: 'exact', pick: () => 0 },
  'Requests per second by outcome#A': { kind: 'rate', count: outcomeCount, per: 1, dense: manyRequests },
};
/** Checks of the per-model panels: gpt-4o is the agent's model and no one else's. */
const MODEL_CHECKS: Readonly<Record<string, Check>> = {
  'Per model: TTFT p95 and end-to-end p99#A': quantile(DURATION_BUCKETS, (s) => s.ttft.p95),
  'Per model: TTFT p95 and end-to-end p99#B': quantile(DURATION_BUCKETS, (s) => s.endToEndP99),
  'Per model: error rate and cost per completed answer#A': ratio((s) => s.errorRate),
  'Per model: error rate and cost per completed answer#B': ratio((s) => s.costPerAnswer),
};

type Pass = 'grafana' | 'cumulative';

/** The scorecard's value for a series on a pass, and the allowed difference; undefined when there is nothing to compare. */
function expectation(check: Check, pass: Pass, c: Context, series: Record<string, string>): { value: number; tolerance: number; what: string } | undefined {
  switch (check.kind) {
    case 'quantile': {
      const value = check.pick(c.score, series)!;
      return pass === 'grafana' ? { value, tolerance: check.resolution(c.score), what: 'bucket width' } : { value, tolerance: Math.abs(value) * 1e-9, what: 'exactly' };
    }
    case 'ratio': {
      const value = check.pick(c.score, series);
      return pass === 'cumulative' && value !== undefined ? { value, tolerance: Math.abs(value) * 1e-9, what: 'exactly' } : undefined;
    }
    case 'rate': {
      const count = check.count(c.score, series);
      if (count === undefined) return undefined;
      // increase() over the window (per = NaN) is a count; rate() is a count per second.
      const scale = Number.isNaN(check.per) ? 1 : check.per;
      if (pass === 'cumulative') return { value: count * scale, tolerance: Math.abs(count * scale) * 1e-9, what: 'exactly' };
      if (!check.dense(count)) return undefined;
      const value = Number.isNaN(check.per) ? count : (count / c.window) * scale;
      return { value, tolerance: Math.abs(value) * RATE_TOLERANCE, what: `${RATE_TOLERANCE * 100}%` };
    }
    case 'exact': {
      const value = check.pick(c.score, series)!;
      return { value, tolerance: 0, what: 'exactly' };
    }
  }
}

/** A dashboard query over the counters since the app started: `rate(x[w])` and `increase(x[w])` become `x`. */
function cumulative(expr: string): string {
  return expr.replace(/\b(?:rate|increase)\(([^()]*?)\[\$__(?:rate_interval|range)\]\)/g, '$1');
}

// ---------------------------------------------------------------------------------------------

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

  it("fills the dashboard's template variables from the scraped series", async () => {
    const values: Record<string, string[]> = {};
    for (const variable of dashboard.variables.filter((v) => v.type === 'query')) {
      const { selector, label } = parseLabelValues(variable.definition!);
      values[variable.name] = (await prometheus!.labelValues(label, substitute(selector, { workload: '.+', model: '.+' }))).sort();
      lines.push(`variable $${variable.name} = ${variable.definition} -> ${values[variable.name]!.join(', ')}`);
    }
    expect(values['workload']).toEqual([...WORKLOADS].sort());
    expect(values['model']).toEqual(['gpt-4o', 'gpt-4o-mini']);
    expect(dashboard.variables.find((v) => v.name === 'datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' });
  });

  it('answers every query of every panel with data, as Grafana runs them; quantiles and rates agree with the scorecard', async () => {
    const vars = { workload: '.+', model: '.+', __rate_interval: `${window}s`, __range: `${window}s` };
    lines.push(
      '',
      `Every query of "${dashboard.json.title}" (${dashboard.targets.length} queries in ${new Set(dashboard.targets.map((t) => t.panel)).size} panels),`,
      `evaluated at the end of the run with $workload=.+ (All), $model=.+ (All), $__rate_interval=$__range=${window}s (the whole run):`,
    );
    const { failures, compared } = await runPass('grafana', vars, (t) => substitute(t.expr, vars));
    expect(failures).toEqual([]);
    expect(compared).toBeGreaterThanOrEqual(40);
  });

  it('gives exactly the scorecard with the same queries over the cumulative counters (rate() and increase() removed)', async () => {
    const vars = { workload: '.+', model: '.+' };
    lines.push('', 'The same queries with rate(x[$__rate_interval]) and increase(x[$__range]) replaced by x, the counters since the demo started:');
    const { failures, compared } = await runPass('cumulative', vars, (t) => substitute(cumulative(t.expr), vars));
    expect(failures).toEqual([]);
    expect(compared).toBeGreaterThanOrEqual(75);
  });

  it("holds exactly the demo's own counts and quantiles (raw counters and buckets, no rate())", async () => {
    lines.push('', 'Without rate(), the scraped series give exactly what the demo computed from its in-memory collection:');
    const failures: string[] = [];
    const compare = async (expr: string, expected: (s: Score, series: Record<string, string>) => number, rel = 0): Promise<void> => {
      lines.push('', `  ${expr}`);
      const samples = await query(expr);
      if (samples.length === 0) failures.push(`${expr}: no data`);
      for (const sample of sortSamples(samples)) {
        const want = expected(report.workloads[sample.metric['workload_class']!]!, sample.metric);
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
    ];
    for (const [metric, q, pick] of quantiles) {
      await compare(`histogram_quantile(${q}, sum by (le, workload_class) (${metric}_bucket))`, pick, 1e-9);
    }
    expect(failures).toEqual([]);
  });

  it('narrows every query to one class when $workload names it', async () => {
    const vars = { workload: 'chat', model: '.+', __rate_interval: `${window}s`, __range: `${window}s` };
    const leaks: string[] = [];
    for (const target of dashboard.targets) {
      for (const sample of await query(substitute(target.expr, vars))) {
        const w = sample.metric['workload_class'];
        const m = sample.metric['gen_ai_request_model'];
        // Per-class series must be chat's; per-model series must be chat's model.
        if ((w !== undefined && w !== 'chat') || (m !== undefined && m !== 'gpt-4o-mini')) leaks.push(`${target.panel} ${target.refId}: ${labels(sample.metric)}`);
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

/** Runs every query of the dashboard, prints it with its values, and compares them with the scorecard. */
async function runPass(pass: Pass, vars: Record<string, string>, build: (t: GrafanaTarget) => string): Promise<{ failures: string[]; compared: number }> {
  const failures: string[] = [];
  let compared = 0;
  for (const target of dashboard.targets) {
    const expr = build(target);
    if (/\$|\[\[/.test(expr)) throw new Error(`unsubstituted variable left in ${expr}`);
    const samples = await query(expr);
    lines.push('', `[${target.panel}] ${target.refId}`, `  ${expr}`);
    if (samples.length === 0 || samples.every((s) => !Number.isFinite(s.value))) {
      failures.push(`${target.panel} ${target.refId}: no data`);
      lines.push('  -> NO DATA');
      continue;
    }
    for (const sample of sortSamples(samples)) {
      const series = sample.metric;
      let line = `    ${labels(series).padEnd(52)} ${num(sample.value).padStart(10)}`;
      const key = `${target.panel}#${target.refId}`;
      const [check, score] =
        series['workload_class'] !== undefined
          ? [CHECKS[key], report.workloads[series['workload_class']]]
          : series['gen_ai_request_model'] === AGENT_MODEL
            ? [MODEL_CHECKS[key], report.workloads['agent']]
            : [undefined, undefined];
      const want = check === undefined || score === undefined ? undefined : expectation(check, pass, { score, window }, series);
      if (want !== undefined && Number.isFinite(want.value)) {
        compared++;
        const ok = Math.abs(sample.value - want.value) <= want.tolerance + 1e-15;
        line += `   scorecard ${num(want.value)} (${want.what === 'exactly' ? 'exactly' : `±${num(want.tolerance)}, ${want.what}`}) ${ok ? 'ok' : 'DISAGREES'}`;
        if (!ok) failures.push(`${target.panel} ${target.refId} ${labels(series)}: ${sample.value}, scorecard ${want.value} ±${want.tolerance}`);
      }
      lines.push(line);
    }
  }
  lines.push('', `${pass} pass: ${dashboard.targets.length} queries, all answered with data; ${compared} values compared with the scorecard, ${failures.length} disagree`);
  return { failures, compared };
}
