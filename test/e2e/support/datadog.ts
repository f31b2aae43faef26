/**
 * Reads dashboards/datadog.json: its widgets, and the metric queries in them taken apart
 * (`p95:inferometer.time_to_first_token{$workload,$model,inferometer.outcome:success} by {workload.class}.as_count()`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const DATADOG_DASHBOARD = join(import.meta.dirname, '..', '..', '..', 'dashboards', 'datadog.json');

export interface DatadogQuery {
  readonly data_source: string;
  readonly name: string;
  readonly query: string;
  readonly aggregator?: string;
}
export interface DatadogRequest {
  readonly response_format?: string;
  readonly queries?: DatadogQuery[];
  readonly formulas?: Array<{ formula: string; alias?: string }>;
}
export interface DatadogWidget {
  readonly id?: number;
  readonly definition: {
    readonly type: string;
    readonly title?: string;
    readonly layout_type?: string;
    readonly widgets?: DatadogWidget[];
    readonly requests?: DatadogRequest[];
  };
}
export interface DatadogDashboard {
  readonly title: string;
  readonly description?: string;
  readonly layout_type: string;
  readonly template_variables?: Array<{ name: string; prefix?: string; default?: string }>;
  readonly widgets: DatadogWidget[];
}

export function loadDatadogDashboard(file = DATADOG_DASHBOARD): DatadogDashboard {
  return JSON.parse(readFileSync(file, 'utf8')) as DatadogDashboard;
}

/** Every widget that is not a group, with the title of its group. */
export function leafWidgets(dashboard: DatadogDashboard): Array<{ group: string | undefined; widget: DatadogWidget }> {
  const out: Array<{ group: string | undefined; widget: DatadogWidget }> = [];
  const walk = (widgets: DatadogWidget[], group: string | undefined): void => {
    for (const w of widgets) {
      if (w.definition.type === 'group') walk(w.definition.widgets ?? [], w.definition.title);
      else out.push({ group, widget: w });
    }
  };
  walk(dashboard.widgets, undefined);
  return out;
}

/** A metric query taken apart. */
export interface ParsedQuery {
  readonly aggregator: string;
  readonly metric: string;
  /** `key:value`, `!key:value` or `$variable` items of the filter. */
  readonly filters: string[];
  readonly groupBy: string[];
  readonly modifier: 'as_count' | 'as_rate' | undefined;
}

const QUERY = /^(\w+):([\w.]+)\{([^}]*)\}(?: by \{([^}]*)\})?(?:\.(as_count|as_rate)\(\))?$/;

/** @throws Error when the query is not of the form this dashboard uses */
export function parseQuery(query: string): ParsedQuery {
  const m = QUERY.exec(query);
  if (m === null) throw new Error(`not a metric query of the form agg:metric{filters} by {tags}.modifier(): ${query}`);
  const split = (s: string | undefined) => (s ?? '').split(',').map((x) => x.trim()).filter((x) => x !== '');
  return { aggregator: m[1]!, metric: m[2]!, filters: split(m[3]), groupBy: split(m[4]), modifier: m[5] as ParsedQuery['modifier'] };
}

/** The tag key of a filter item (`!inferometer.outcome:success` -> `inferometer.outcome`), or undefined for a `$variable`. */
export function tagKeyOf(filter: string): string | undefined {
  if (filter.startsWith('$')) return undefined;
  return filter.replace(/^!/, '').split(':')[0];
}

/** Every metric query of the dashboard. */
export function allQueries(dashboard: DatadogDashboard): DatadogQuery[] {
  return leafWidgets(dashboard).flatMap(({ widget }) => (widget.definition.requests ?? []).flatMap((r) => r.queries ?? []));
}

/** The metric names and tag keys (filters and group-bys) the Datadog dashboard uses. */
export function datadogUsage(dashboard = loadDatadogDashboard()): { metricNames: Set<string>; tagKeys: Set<string> } {
  const parsed = allQueries(dashboard).map((q) => parseQuery(q.query));
  const variables = new Map((dashboard.template_variables ?? []).map((v) => [`$${v.name}`, v.prefix]));
  const tagKeys = new Set<string>();
  for (const p of parsed) {
    for (const f of p.filters) {
      const key = tagKeyOf(f) ?? variables.get(f);
      if (key !== undefined) tagKeys.add(key);
    }
    for (const g of p.groupBy) tagKeys.add(g);
  }
  return { metricNames: new Set(parsed.map((p) => p.metric)), tagKeys };
}
