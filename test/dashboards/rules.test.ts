/**
 * dashboards/prometheus-rules.yml (recording rules and alerts), its promtool unit tests, and
 * dashboards/datadog-monitors.json (the same alerts as Datadog monitors).
 *
 * Without promtool the checks of the files' content still run; promtool's own check and unit
 * tests are skipped, with a message, unless INFEROMETER_REQUIRE_PROMTOOL=1 (set by .ci/rules.sh,
 * which installs Debian's `prometheus` package first), when a missing promtool fails.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const DASHBOARDS = join(ROOT, 'dashboards');
const RULES_FILE = join(DASHBOARDS, 'prometheus-rules.yml');
const RULES_TEST_FILE = join(DASHBOARDS, 'prometheus-rules.test.yml');
const RULES_TEXT = readFileSync(RULES_FILE, 'utf8');

// ---------------------------------------------------------------------------------------------
// A reader for the YAML these two files are written in (block mappings and sequences, plain and
// quoted scalars, `|` / `>` block scalars, `[]`, comments). The repository has no YAML parser
// and needs none at run time; promtool's rule count cross-checks this one below.
type Yaml = string | Yaml[] | { [key: string]: Yaml };

function parseYaml(text: string): unknown {
  const lines = text.split('\n');
  let i = 0;
  const indentOf = (line: string) => line.length - line.trimStart().length;
  const significant = (line: string) => line.trim() !== '' && !line.trimStart().startsWith('#');
  const next = (): number | undefined => {
    while (i < lines.length && !significant(lines[i]!)) i++;
    return i < lines.length ? indentOf(lines[i]!) : undefined;
  };
  const scalar = (raw: string): Yaml => {
    const s = raw.trim();
    if (s.startsWith("'")) {
      const m = /^'((?:[^']|'')*)'\s*(#.*)?$/.exec(s);
      if (!m) throw new Error(`unterminated quoted scalar: ${s}`);
      return m[1]!.replace(/''/g, "'");
    }
    if (s.startsWith('"')) {
      const m = /^("(?:[^"\\]|\\.)*")\s*(#.*)?$/.exec(s);
      if (!m) throw new Error(`unterminated quoted scalar: ${s}`);
      return JSON.parse(m[1]!) as string;
    }
    const plain = s.replace(/\s+#.*$/, '');
    if (plain === '[]') return [];
    if (plain === '{}') return {};
    if (/^[[{]/.test(plain)) throw new Error(`flow collections are not read here: ${plain}`);
    return plain;
  };
  const blockScalar = (header: string, parentIndent: number): string => {
    const body: string[] = [];
    while (i < lines.length && (lines[i]!.trim() === '' || indentOf(lines[i]!) > parentIndent)) body.push(lines[i++]!);
    while (body.length > 0 && body.at(-1)!.trim() === '') body.pop();
    const indent = Math.min(...body.filter((l) => l.trim() !== '').map(indentOf));
    const content = body.map((l) => l.slice(indent));
    const joined = header.startsWith('>') ? content.join(' ') : content.join('\n');
    return header.endsWith('-') ? joined : `${joined}\n`;
  };
  const node = (indent: number): Yaml => {
    const n = next();
    if (n === undefined || n < indent) return '';
    if (/^-(\s|$)/.test(lines[i]!.trimStart())) {
      const seq: Yaml[] = [];
      while (next() === n && /^-(\s|$)/.test(lines[i]!.trimStart())) {
        const rest = lines[i]!.trimStart().slice(1).trimStart();
        if (rest === '') {
          i++;
          seq.push(node(n + 1));
        } else {
          lines[i] = ' '.repeat(n + 2) + rest; // `- key: value` opens a mapping at n + 2
          seq.push(node(n + 2));
        }
      }
      return seq;
    }
    const KEY = /^([A-Za-z_][\w.-]*):(?:\s+(.*))?$/;
    if (!KEY.test(lines[i]!.trim())) {
      const value = scalar(lines[i]!);
      i++;
      return value;
    }
    const map: { [key: string]: Yaml } = {};
    while (next() === n) {
      const m = KEY.exec(lines[i]!.trim());
      if (!m) throw new Error(`expected a key at line ${i + 1}: ${lines[i]}`);
      i++;
      const rest = (m[2] ?? '').replace(/^#.*$/, '');
      if (/^[|>][-+]?\s*$/.test(rest)) map[m[1]!] = blockScalar(rest.trim(), n);
      else if (rest !== '') map[m[1]!] = scalar(rest);
      else {
        const child = next();
        map[m[1]!] = child !== undefined && (child > n || (child === n && lines[i]!.trimStart().startsWith('-'))) ? node(child) : '';
      }
    }
    return map;
  };
  return node(0);
}

// ---------------------------------------------------------------------------------------------
// The files, typed as far as the checks need.
interface Rule {
  readonly record?: string;
  readonly alert?: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}
interface RuleTest {
  readonly input_series: Array<{ series: string; values: string }>;
  readonly alert_rule_test?: Array<{ alertname: string; eval_time: string; exp_alerts: Array<{ exp_labels: Record<string, string> }> }>;
  readonly promql_expr_test?: Array<{ expr: string }>;
}
interface Monitor {
  readonly name: string;
  readonly type: string;
  readonly query: string;
  readonly message: string;
  readonly tags: string[];
  readonly options: { thresholds: { critical: number; warning?: number } };
}

const groups = (parseYaml(RULES_TEXT) as { groups: Array<{ name: string; rules: Rule[] }> }).groups;
const rules = groups.flatMap((g) => g.rules);
const records = rules.filter((r) => r.record !== undefined);
const alerts = rules.filter((r) => r.alert !== undefined);
const ruleTests = (parseYaml(readFileSync(RULES_TEST_FILE, 'utf8')) as { tests: RuleTest[] }).tests;
const monitors = JSON.parse(readFileSync(join(DASHBOARDS, 'datadog-monitors.json'), 'utf8')) as Monitor[];

// ---------------------------------------------------------------------------------------------
// What the README documents: its metric reference (OpenTelemetry names and instrument types) and
// attributes, under the names the OpenTelemetry JS Prometheus exporter gives them (README
// "Prometheus names": dots -> underscores, counters + _total, no unit).
type Kind = 'histogram' | 'counter' | 'gauge';
function readmeTable(heading: string): string[][] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`README.md has no "${heading}" section`);
  const section = readme.slice(start + heading.length + 2).split(/\n#{2,3} /)[0]!;
  return section.split('\n').filter((l) => /^\| `/.test(l)).map((l) => l.split('|').slice(1, -1).map((c) => c.trim()));
}
const kindOf = (type: string): Kind => (type.includes('histogram') ? 'histogram' : type === 'counter' ? 'counter' : 'gauge');
/** Metrics the lead is adding now, named in the issue; the README table documents them as they land. */
const NEW_METRICS: ReadonlyArray<[string, Kind]> = [
  ['inferometer.time_to_response_headers', 'histogram'],
  ['inferometer.retry_after', 'histogram'],
  ['inferometer.ratelimit.remaining', 'gauge'],
  ['inferometer.ratelimit.limit', 'gauge'],
  ['inferometer.ratelimit.reset', 'gauge'],
];
const NEW_ATTRIBUTES = ['inferometer.ratelimit.resource'];
const METRICS = new Map<string, Kind>([
  ...readmeTable('## Metric reference').map(([name, type]) => [name!.replace(/`/g, ''), kindOf(type!)] as [string, Kind]),
  ...NEW_METRICS,
]);
const ATTRIBUTES = new Set([...readmeTable('### Attributes').flatMap(([names]) => [...names!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!)), ...NEW_ATTRIBUTES]);
const PROMETHEUS_SERIES = new Set(
  [...METRICS].flatMap(([name, kind]) => {
    const base = name.replace(/\./g, '_');
    return kind === 'histogram' ? [`${base}_bucket`, `${base}_sum`, `${base}_count`] : kind === 'counter' ? [`${base}_total`] : [base];
  }),
);
const PROMETHEUS_LABELS = new Set([...ATTRIBUTES].map((a) => a.replace(/\./g, '_')).concat('le'));

// ---------------------------------------------------------------------------------------------
// PromQL taken apart just enough: series names, label names, quantiles.
const RECORDING_NAME = /^[a-z][a-z0-9_]*:[a-z][a-z0-9_]*:[a-z0-9][a-z0-9_]*$/;
const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset']);

function promql(expr: string): { series: string[]; labels: string[] } {
  const code = expr.replace(/#.*$/gm, '').replace(/"(?:[^"\\]|\\.)*"/g, '""');
  const labels: string[] = [];
  for (const m of code.matchAll(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g)) {
    labels.push(...m[1]!.split(',').map((l) => l.trim()).filter((l) => l !== ''));
  }
  for (const m of code.matchAll(/\{([^}]*)\}/g)) labels.push(...[...m[1]!.matchAll(/([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)/g)].map((x) => x[1]!));
  const bare = code
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ');
  const series = [...bare.matchAll(/(?<![\w.])([a-zA-Z_:][\w:]*)(?!\s*\(|[\w:])/g)].map((m) => m[1]!).filter((t) => !KEYWORDS.has(t));
  return { series: [...new Set(series)], labels: [...new Set(labels)] };
}

const recordedNames = new Set(records.map((r) => r.record!));

describe('dashboards/prometheus-rules.yml', () => {
  it('names every recording rule level:metric:operations, and alerts once each', () => {
    expect(records.length).toBeGreaterThan(20);
    for (const r of records) expect(r.record, r.record).toMatch(RECORDING_NAME);
    const names = alerts.map((a) => a.alert!);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(
      expect.arrayContaining([
        'InferometerTTFTP95OverObjective', 'InferometerGoodputBelowTarget', 'InferometerErrorRateHigh', 'InferometerRateLimited429ShareHigh',
        'InferometerRateLimitHeadroomLow', 'InferometerRequestsStuck', 'InferometerTimeToResponseHeadersP95High',
      ]),
    );
  });

  it('records the dashboard heavy quantiles and ratios', () => {
    for (const name of [
      'workload_class:inferometer_time_to_first_token:p50_5m', 'workload_class:inferometer_time_to_first_token:p95_5m',
      'workload_class:inferometer_time_to_first_token:p99_5m', 'workload_class_gen_ai_request_model:inferometer_time_to_first_token:p95_5m',
      'workload_class:gen_ai_client_operation_duration:p95_5m', 'workload_class:gen_ai_client_operation_duration:p99_5m',
      'workload_class:gen_ai_client_operation_time_per_output_chunk:p99_5m', 'workload_class:inferometer_output_speed:p50_5m',
      'workload_class_error_type:inferometer_requests:error_ratio_rate5m', 'workload_class:inferometer_attempts:429_ratio_rate5m',
      'workload_class:inferometer_slo_requests:goodput_rate5m', 'workload_class:inferometer_requests:availability_rate5m',
    ]) {
      expect(recordedNames.has(name), name).toBe(true);
    }
  });

  it('gives every alert a for:, a severity, a summary, a description and a runbook that says what to check first', () => {
    for (const a of alerts) {
      expect(a.for, a.alert).toMatch(/^\d+[smh]$/);
      expect(['critical', 'warning'], a.alert).toContain(a.labels?.['severity']);
      expect(a.annotations?.['summary'], a.alert).toBeTruthy();
      expect(a.annotations?.['description'], a.alert).toBeTruthy();
      expect(a.annotations?.['runbook'], a.alert).toMatch(/^First check /);
    }
  });

  it('selects only metrics the README documents (or the new ones), under their Prometheus names, and rules it records', () => {
    for (const r of rules) {
      for (const s of promql(r.expr).series) {
        if (s.includes(':')) expect(recordedNames.has(s), `${r.record ?? r.alert}: ${s} is not recorded here`).toBe(true);
        else expect(PROMETHEUS_SERIES.has(s), `${r.record ?? r.alert}: ${s} is no documented metric`).toBe(true);
      }
    }
    // The unit tests feed the same names.
    for (const t of ruleTests) for (const { series } of t.input_series) expect(PROMETHEUS_SERIES.has(series.split('{')[0]!), series).toBe(true);
  });

  it('groups and matches only by labels inferometer sets (attribute names, dots as underscores) and le', () => {
    for (const r of rules) {
      for (const l of promql(r.expr).labels) expect(PROMETHEUS_LABELS.has(l), `${r.record ?? r.alert}: label ${l}`).toBe(true);
      for (const l of Object.keys(r.record ? (r.labels ?? {}) : {})) expect(PROMETHEUS_LABELS.has(l), `${r.record}: label ${l}`).toBe(true);
    }
  });

  it('computes quantiles from buckets summed by le first: no quantile of averages, no rate of buckets left unsummed', () => {
    for (const r of rules) {
      const code = r.expr.replace(/#.*$/gm, '');
      expect(code, r.record ?? r.alert).not.toMatch(/\bavg(_over_time)?\s*\(/);
      for (const m of code.matchAll(/histogram_quantile\(\s*[\d.]+\s*,\s*([^\s(]+)/g)) {
        const arg = m[1]!;
        const ok = arg === 'sum' ? /^sum by \(le\b/.test(code.slice(m.index + m[0].length - 3)) : /^[a-z0-9_]*_le:/.test(arg);
        expect(ok, `${r.record ?? r.alert}: histogram_quantile over ${arg}`).toBe(true);
      }
      const bucketRates = code.match(/rate\(\w+_bucket\[/g)?.length ?? 0;
      const summedByLe = code.match(/sum by \(le(?:, \w+)*\) \(rate\(\w+_bucket\[/g)?.length ?? 0;
      expect(summedByLe, `${r.record ?? r.alert}: rate of buckets not summed by le`).toBe(bucketRates);
    }
  });

  it('has unit tests in which every alert fires, and in which it stays silent', () => {
    const cases = ruleTests.flatMap((t) => t.alert_rule_test ?? []);
    for (const a of alerts) {
      const mine = cases.filter((c) => c.alertname === a.alert);
      expect(mine.some((c) => c.exp_alerts.length > 0), `${a.alert} never fires in the tests`).toBe(true);
      expect(mine.some((c) => c.exp_alerts.length === 0), `${a.alert} is never shown silent`).toBe(true);
    }
    expect(ruleTests.flatMap((t) => t.promql_expr_test ?? []).length).toBeGreaterThan(5);
  });
});

// ---------------------------------------------------------------------------------------------
const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' }).status === 0;
const required = process.env['INFEROMETER_REQUIRE_PROMTOOL'] === '1';
if (!promtool && !required) {
  console.warn('test/dashboards/rules.test.ts: promtool is not on the PATH, so promtool check/test of dashboards/prometheus-rules.yml are SKIPPED (apt-get install prometheus, or bash .ci/rules.sh)');
}
const runPromtool = (...args: string[]) => spawnSync('promtool', args, { cwd: DASHBOARDS, encoding: 'utf8' });

describe('promtool', () => {
  it.runIf(required && !promtool)('is on the PATH (INFEROMETER_REQUIRE_PROMTOOL=1)', () => {
    expect.fail('promtool is not on the PATH: install Debian\'s prometheus package (apt-get install prometheus), or run bash .ci/rules.sh');
  });

  describe.skipIf(!promtool)(promtool ? 'on the PATH' : 'SKIPPED: promtool is not on the PATH (apt-get install prometheus, or bash .ci/rules.sh)', () => {
    it('checks the rules file, and finds as many rules as this reader does', () => {
      const r = runPromtool('check', 'rules', 'prometheus-rules.yml');
      expect(r.status, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain(`SUCCESS: ${rules.length} rules found`);
    });

    it('passes the unit tests', () => {
      const r = runPromtool('test', 'rules', 'prometheus-rules.test.yml');
      expect(r.status, r.stdout + r.stderr).toBe(0);
    });

    // The unit tests can fail: each mistake the issue names, made on purpose, fails them.
    it.each([
      [
        'a quantile of averages (mean of per-model p95s)',
        'histogram_quantile(0.95, sum by (le, workload_class) (workload_class_gen_ai_request_model_le:inferometer_time_to_first_token_bucket:rate5m))',
        'avg by (workload_class) (workload_class_gen_ai_request_model:inferometer_time_to_first_token:p95_5m)',
      ],
      [
        'quantiles of buckets not summed by le',
        'sum by (le, workload_class, gen_ai_request_model) (rate(inferometer_time_to_first_token_bucket[5m]))',
        'sum by (workload_class, gen_ai_request_model) (rate(inferometer_time_to_first_token_bucket[5m]))',
      ],
      [
        'a goodput that reads "no data" instead of 0 when nothing met its objectives',
        `    sum by (workload_class) (rate(inferometer_slo_requests_total{inferometer_slo_outcome="met"}[1h]))
            or sum by (workload_class) (rate(inferometer_slo_requests_total[1h])) * 0`,
        '    sum by (workload_class) (rate(inferometer_slo_requests_total{inferometer_slo_outcome="met"}[1h]))',
      ],
      ['an alert without for:', '        for: 10m\n        labels:\n          severity: warning\n        annotations:\n          summary: \'Time to first', '        labels:\n          severity: warning\n        annotations:\n          summary: \'Time to first'],
    ])('fail on %s', (_, original, mutant) => {
      expect(RULES_TEXT.split(original).length, 'the mutation must apply exactly once').toBe(2);
      const dir = mkdtempSync(join(tmpdir(), 'inferometer-rules-'));
      try {
        writeFileSync(join(dir, 'prometheus-rules.yml'), RULES_TEXT.replace(original, mutant));
        copyFileSync(RULES_TEST_FILE, join(dir, 'prometheus-rules.test.yml'));
        const r = spawnSync('promtool', ['test', 'rules', 'prometheus-rules.test.yml'], { cwd: dir, encoding: 'utf8' });
        expect(r.status, r.stdout).not.toBe(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});

// ---------------------------------------------------------------------------------------------
const MONITOR_QUERY = /^(avg|sum|min|max|percentile)\(last_\d+[mh]\):(.+?)\s+(>=|<=|>|<)\s+(-?\d+(?:\.\d+)?)$/;
const METRIC_QUERY = /(\w+):([a-z_][\w.]*)\{([^}]*)\}(?: by \{([^}]*)\})?(?:\.(as_count|as_rate)\(\))?/g;
const listOf = (s: string | undefined) => (s ?? '').split(',').map((x) => x.trim()).filter((x) => x !== '' && x !== '*');

describe('dashboards/datadog-monitors.json', () => {
  it('is an array of metric monitors, each with a name, query, message with a runbook, critical threshold, tags', () => {
    expect(Array.isArray(monitors)).toBe(true);
    for (const m of monitors) {
      expect(m.name).toMatch(/^Inferometer\w+( \[[\w ]+\])?$/);
      expect(m.type, m.name).toBe('query alert');
      expect(m.query, m.name).toMatch(MONITOR_QUERY);
      expect(m.message, m.name).toMatch(/\n\nRunbook: First check /);
      expect(typeof m.options.thresholds.critical, m.name).toBe('number');
      // Datadog rejects a monitor whose critical threshold is not the one in its query.
      expect(Number(MONITOR_QUERY.exec(m.query)![4]), m.name).toBe(m.options.thresholds.critical);
      expect(m.tags, m.name).toContain('source:inferometer');
    }
    expect(new Set(monitors.map((m) => m.name)).size).toBe(monitors.length);
  });

  it('has a monitor for every alert of the rules file, of the same severity, and none for an alert it lacks', () => {
    const alertOf = (m: Monitor) => m.name.split(' [')[0]!;
    for (const a of alerts) {
      const mine = monitors.filter((m) => alertOf(m) === a.alert);
      expect(mine.length, `no monitor for ${a.alert}`).toBeGreaterThan(0);
      for (const m of mine) expect(m.tags, m.name).toContain(`severity:${a.labels!['severity']}`);
    }
    for (const m of monitors) expect(alerts.map((a) => a.alert), m.name).toContain(alertOf(m));
  });

  it('holds each class to the objective the rules file gives it', () => {
    const objectives: Record<string, string> = {
      InferometerTTFTP95OverObjective: 'workload_class:inferometer_time_to_first_token:p95_objective',
      InferometerTimeToResponseHeadersP95High: 'workload_class:inferometer_time_to_response_headers:p95_objective',
      InferometerGoodputBelowTarget: 'workload_class:inferometer_slo_requests:goodput_target',
    };
    for (const [alert, record] of Object.entries(objectives)) {
      for (const r of records.filter((x) => x.record === record)) {
        const cls = r.labels!['workload_class']!;
        const m = monitors.find((x) => x.name === `${alert} [${cls}]`);
        expect(m, `${alert} [${cls}]`).toBeDefined();
        expect(m!.options.thresholds.critical, m!.name).toBe(Number(/^vector\(([\d.]+)\)$/.exec(r.expr.trim())![1]));
        expect(m!.query, m!.name).toContain(`workload.class:${cls}`);
      }
    }
  });

  it('queries only metrics inferometer documents, each as its Datadog type allows, by attribute tags', () => {
    for (const m of monitors) {
      const queries = [...MONITOR_QUERY.exec(m.query)![2]!.matchAll(METRIC_QUERY)];
      expect(queries.length, m.name).toBeGreaterThan(0);
      const groupBy = new Set<string>();
      for (const [q, aggregator, metric, filters, by, modifier] of queries) {
        const kind = METRICS.get(metric!);
        expect(kind, `${m.name}: ${q} uses an undocumented metric`).toBeDefined();
        // Distributions answer percentiles; counts are read as counts or rates; gauges as they are.
        if (/^p\d+$/.test(aggregator!)) expect(kind, q).toBe('histogram');
        if (kind === 'counter') expect(modifier, q).toBeDefined();
        if (kind === 'gauge') expect(modifier, q).toBeUndefined();
        for (const f of listOf(filters)) expect(ATTRIBUTES.has(f.replace(/^!/, '').split(':')[0]!), `${m.name}: tag ${f}`).toBe(true);
        for (const g of listOf(by)) {
          expect(ATTRIBUTES.has(g), `${m.name}: group ${g}`).toBe(true);
          groupBy.add(g);
        }
      }
      // Tag variables: keys with dots are bracketed ({{[workload.class].name}}), and grouped by.
      expect(m.message, m.name).not.toMatch(/\{\{\s*[\w]+\.[\w.]+\.name\s*\}\}/);
      for (const v of m.message.matchAll(/\{\{\[([^\]]+)\]\.name\}\}/g)) expect(groupBy.has(v[1]!), `${m.name}: {{[${v[1]}].name}}`).toBe(true);
    }
  });
});
