// Summaries over rounds: median, min, max, and a 95% confidence interval of the geometric mean
// of ratios (Student's t on the logs, as ratios are multiplicative).

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export const mean = (values) => values.reduce((a, b) => a + b, 0) / values.length;

// Two-sided 95% Student's t quantiles by degrees of freedom (1..30); 1.96 beyond.
const T95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];

/** 95% CI of the geometric mean of positive ratios; undefined with fewer than 2 values. */
export function ratioCI(ratios) {
  if (ratios.length < 2) return undefined;
  const logs = ratios.map(Math.log);
  const m = mean(logs);
  const sd = Math.sqrt(logs.reduce((a, x) => a + (x - m) ** 2, 0) / (logs.length - 1));
  const t = T95[logs.length - 2] ?? 1.96;
  const half = (t * sd) / Math.sqrt(logs.length);
  return [Math.exp(m - half), Math.exp(m + half)];
}

/** { median, min, max, ci } of a list of ratios. */
export function summarizeRatios(ratios) {
  return { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios), ci: ratioCI(ratios), n: ratios.length };
}
