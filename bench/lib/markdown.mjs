// Markdown tables and number formats for the results.

export function table(header, rows) {
  const lines = [`| ${header.join(' | ')} |`, `|${header.map((h, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  for (const row of rows) lines.push(`| ${row.join(' | ')} |`);
  return lines.join('\n');
}

export const fixed = (x, digits = 2) => (typeof x !== 'number' || Number.isNaN(x) ? 'n/a' : x.toFixed(digits));
export const signed = (x, digits = 2) => (typeof x !== 'number' || Number.isNaN(x) ? 'n/a' : `${x >= 0 ? '+' : ''}${x.toFixed(digits)}`);

/** `1.034x [1.01-1.05] (95% CI 1.02-1.04)` */
export function ratioCell(s) {
  if (s === undefined) return 'n/a';
  const ci = s.ci === undefined ? '' : `, CI ${s.ci[0].toFixed(3)}-${s.ci[1].toFixed(3)}`;
  return `**${s.median.toFixed(3)}x** (${s.min.toFixed(3)}-${s.max.toFixed(3)}${ci})`;
}
