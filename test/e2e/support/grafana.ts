/**
 * Reads dashboards/grafana.json the way Grafana would run it: every query of every panel (rows
 * included), with the dashboard's template variables substituted.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const GRAFANA_DASHBOARD = join(import.meta.dirname, '..', '..', '..', 'dashboards', 'grafana.json');

export interface GrafanaTarget {
  readonly panel: string;
  readonly panelType: string;
  readonly refId: string;
  readonly legend: string;
  /** The PromQL as written in the dashboard, variables unsubstituted. */
  readonly expr: string;
}

export interface GrafanaVariable {
  readonly name: string;
  readonly type: string;
  /** A query variable's definition, e.g. `label_values(inferometer_requests_total, workload_class)`. */
  readonly definition?: string;
  readonly allValue?: string;
}

interface Panel {
  type: string;
  title: string;
  panels?: Panel[];
  targets?: Array<{ refId: string; expr: string; legendFormat?: string }>;
}

export interface GrafanaDashboard {
  readonly json: { title: string; panels: Panel[]; templating: { list: GrafanaVariable[] } };
  readonly targets: GrafanaTarget[];
  readonly variables: GrafanaVariable[];
}

export function loadGrafanaDashboard(file = GRAFANA_DASHBOARD): GrafanaDashboard {
  const json = JSON.parse(readFileSync(file, 'utf8')) as GrafanaDashboard['json'];
  const targets: GrafanaTarget[] = [];
  const walk = (panels: Panel[]): void => {
    for (const panel of panels) {
      for (const t of panel.targets ?? []) {
        targets.push({ panel: panel.title, panelType: panel.type, refId: t.refId, legend: t.legendFormat ?? '', expr: t.expr });
      }
      walk(panel.panels ?? []);
    }
  };
  walk(json.panels);
  return { json, targets, variables: json.templating.list };
}

/**
 * Replaces Grafana's variables in a query: `$name`, `${name}` and `[[name]]` from `values`
 * (a value is inserted as is: pass a regex such as `.+` or `chat|batch` for `=~` matchers).
 * @throws Error when the query names a variable that `values` does not hold
 */
export function substitute(expr: string, values: Readonly<Record<string, string>>): string {
  const out = expr.replace(/\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)/g, (match, a: string | undefined, b: string | undefined, c: string | undefined) => {
    const name = (a ?? b ?? c)!;
    const value = values[name];
    if (value === undefined) throw new Error(`no value for the variable ${match} in: ${expr}`);
    return value;
  });
  return out;
}

/** `label_values(SELECTOR, LABEL)` -> its selector and label (Grafana's Prometheus variable query). */
export function parseLabelValues(definition: string): { selector: string; label: string } {
  const m = /^label_values\((.*),\s*(\w+)\s*\)$/s.exec(definition.trim());
  if (m === null) throw new Error(`not a label_values() query: ${definition}`);
  return { selector: m[1]!.trim(), label: m[2]! };
}
