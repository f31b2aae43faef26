/**
 * dashboards/datadog.json cannot be loaded into Datadog here, so its shape is checked against
 * the dashboard API's definition format, and every metric and tag it uses against the metrics
 * inferometer records (examples.e2e.ts checks that they also arrive over OTLP from
 * examples/datadog).
 */
import * as inferometer from 'inferometer';
import { describe, expect, it } from 'vitest';
import { allQueries, datadogUsage, leafWidgets, loadDatadogDashboard, parseQuery } from './support/datadog.ts';
import { loadGrafanaDashboard } from './support/grafana.ts';
import { METRICS, WITHOUT_WORKLOAD } from './support/metric-names.ts';

const dashboard = loadDatadogDashboard();
/** Every attribute inferometer sets: the tags Datadog makes of them. */
const ATTRIBUTES = new Set(Object.entries(inferometer).filter(([name]) => name.startsWith('ATTR_')).map(([, value]) => value as string));
const WIDGET_TYPES = new Set(['group', 'timeseries', 'query_value', 'toplist', 'note']);
const PERCENTILES = new Set(['p50', 'p75', 'p90', 'p95', 'p99']);
const AGGREGATORS = new Set(['avg', 'sum', 'min', 'max', 'count', ...PERCENTILES]);

describe('dashboards/datadog.json', () => {
  it('is a dashboard definition: title, ordered layout, groups of widgets, template variables', () => {
    expect(typeof dashboard.title).toBe('string');
    expect(dashboard.layout_type).toBe('ordered');
    expect(dashboard.widgets.length).toBeGreaterThan(0);
    for (const w of dashboard.widgets) {
      expect(w.definition.type).toBe('group');
      expect(w.definition.layout_type).toBe('ordered');
      expect(w.definition.widgets!.length).toBeGreaterThan(0);
    }
    for (const { widget } of leafWidgets(dashboard)) {
      expect(WIDGET_TYPES.has(widget.definition.type), widget.definition.type).toBe(true);
      expect(widget.definition.title).toBeTruthy();
    }
    expect(dashboard.template_variables).toEqual([
      { name: 'workload', prefix: 'workload.class', available_values: [], default: '*' },
      { name: 'provider', prefix: 'gen_ai.provider.name', available_values: [], default: '*' },
      { name: 'model', prefix: 'gen_ai.request.model', available_values: [], default: '*' },
    ]);
  });

  it('asks the same questions as the Grafana dashboard, one group per row', () => {
    const rows = loadGrafanaDashboard().json.panels.filter((p) => p.type === 'row').map((p) => p.title);
    expect(dashboard.widgets.map((w) => w.definition.title)).toEqual(rows);
  });

  it('has well-formed requests: named metric queries, and formulas that use only those names', () => {
    for (const { widget } of leafWidgets(dashboard)) {
      const title = widget.definition.title!;
      expect(widget.definition.requests?.length, title).toBeGreaterThan(0);
      for (const request of widget.definition.requests!) {
        expect(['timeseries', 'scalar'], title).toContain(request.response_format);
        const names = request.queries!.map((q) => q.name);
        expect(new Set(names).size, title).toBe(names.length);
        for (const q of request.queries!) {
          expect(q.data_source, title).toBe('metrics');
          expect(q.name, title).toMatch(/^[a-z][a-z0-9_]*$/);
          if (request.response_format === 'scalar') expect(q.aggregator, title).toBeDefined();
        }
        expect(request.formulas!.length, title).toBeGreaterThan(0);
        for (const { formula } of request.formulas!) {
          const identifiers = formula.match(/[a-z_][a-z0-9_]*/g) ?? [];
          for (const id of identifiers) expect(names, `${title}: ${formula}`).toContain(id);
          // Every query is used by some formula.
        }
        for (const name of names) expect(request.formulas!.some((f) => new RegExp(`\\b${name}\\b`).test(f.formula)), `${title}: ${name} unused`).toBe(true);
      }
    }
  });

  it('queries only metrics inferometer records, each in a way its Datadog type supports', () => {
    const variables = new Set((dashboard.template_variables ?? []).map((v) => `$${v.name}`));
    for (const q of allQueries(dashboard)) {
      const p = parseQuery(q.query);
      const kind = METRICS.get(p.metric);
      expect(kind, `${q.query}: unknown metric`).toBeDefined();
      expect(AGGREGATORS.has(p.aggregator), q.query).toBe(true);
      // Distributions (exponential histograms) answer percentiles; counts are summed as counts or rates; a level as is.
      if (PERCENTILES.has(p.aggregator)) expect(kind, q.query).toBe('histogram');
      if (kind === 'counter') expect([p.aggregator, p.modifier !== undefined], q.query).toEqual(['sum', true]);
      if (kind === 'updowncounter') expect([p.aggregator, p.modifier], q.query).toEqual(['sum', undefined]);
      // A gauge per quota: its lowest or highest reading, never a sum over quotas.
      if (kind === 'gauge') expect(['min', 'max'].includes(p.aggregator) && p.modifier === undefined, q.query).toBe(true);
      // Every query is narrowed by every template variable whose tag the metric carries; a metric
      // without workload.class is not filtered by it (choosing a class would blank it).
      for (const v of variables) expect(p.filters.includes(v), q.query).toBe(!(v === '$workload' && WITHOUT_WORKLOAD.has(p.metric)));
    }
  });

  it('uses only tags that inferometer sets as attributes', () => {
    const { tagKeys, metricNames } = datadogUsage(dashboard);
    for (const key of tagKeys) expect(ATTRIBUTES.has(key), key).toBe(true);
    // And it covers the questions of the brief: every metric but token usage (a cost driver, not a question).
    expect([...METRICS.keys()].filter((m) => !metricNames.has(m))).toEqual([inferometer.METRIC_TOKEN_USAGE]);
  });
});
