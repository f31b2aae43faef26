/**
 * How the scorecard prints numbers, and its aligned tables: one row per measure (units in the row
 * header), one column per workload, provider or model.
 */

/** A table row: its label, and how a column shows the measure. */
export type Row<T> = readonly [label: string, cell: (column: T) => string];

/** Fixed decimals; `-` for NaN (no data). */
export const num = (value: number, digits: number): string => (Number.isFinite(value) ? value.toFixed(digits) : '-');
/** Seconds shown as whole milliseconds. */
export const ms = (seconds: number): string => num(seconds * 1000, 0);
/** A fraction shown as a percentage with one decimal. */
export const pct = (fraction: number): string => num(fraction * 100, 1);
/** Two significant digits, never in exponent notation: `$0.000024`, `$0.011`, `$12.30`. */
export function usd(value: number): string {
  if (!Number.isFinite(value)) return '-';
  if (value === 0) return '$0';
  const decimals = Math.min(12, Math.max(2, 1 - Math.floor(Math.log10(Math.abs(value)))));
  return `$${value.toFixed(decimals)}`;
}
export const thousands = (value: number): string => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '-');

/** An aligned table: header lines (one cell per column each), a rule, one line per row. */
export function table<T>(header: ReadonlyArray<readonly string[]>, body: ReadonlyArray<Row<T>>, columns: readonly T[]): string {
  const labelWidth = Math.max(...body.map(([label]) => label.length));
  const cells = body.map(([, cell]) => columns.map(cell));
  const widths = columns.map((_, i) => Math.max(...header.map((h) => h[i]!.length), ...cells.map((row) => row[i]!.length)) + 2);
  const line = (label: string, values: readonly string[]) =>
    `  ${label.padEnd(labelWidth)}${values.map((v, i) => v.padStart(widths[i]!)).join('')}`;
  const heads = header.map((h) => line('', h));
  const rule = `  ${'-'.repeat(heads[0]!.length - 2)}`;
  return [...heads, rule, ...body.map(([label], r) => line(label, cells[r]!))].join('\n');
}
