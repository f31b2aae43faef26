/*
 * The value formats of rate-limit headers: counts, OpenAI-style durations (`6m0s`, `1.5s`,
 * `12ms`), RFC 3339 times (Anthropic), and `retry-after` (seconds or an HTTP date). Each parser
 * returns undefined for a value it cannot read: the caller reports that once and records nothing.
 */

const COUNT = /^\d{1,15}$/;
const DURATION = /^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+(?:\.\d+)?)ms)?$/;
const SECONDS = /^\d+(?:\.\d+)?$/;

/** A count (`"60"`); negative values (Azure's `-1` placeholder) are `null`: present but unknown. */
export function parseCount(value: string): number | null | undefined {
  const text = value.trim();
  if (text === '-1') return null;
  return COUNT.test(text) ? Number(text) : undefined;
}

/** An OpenAI/Groq duration (`6m0s`, `1h2m3.5s`, `12ms`, `0.5s`) in milliseconds. */
export function parseDuration(value: string): number | undefined {
  const text = value.trim();
  if (text === '') return undefined;
  const m = DURATION.exec(text);
  if (m === null) return SECONDS.test(text) ? Number(text) * 1000 : undefined;
  const [, h = '0', min = '0', s = '0', ms = '0'] = m;
  return ((Number(h) * 60 + Number(min)) * 60 + Number(s)) * 1000 + Number(ms);
}

/** An RFC 3339 time (`2026-11-30T21:00:05Z`) as epoch milliseconds. */
export function parseTime(value: string): number | undefined {
  const text = value.trim();
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isFinite(at) ? at : undefined;
}

/** `retry-after`: seconds, or an HTTP date; in milliseconds from `now` (epoch ms). */
export function parseRetryAfter(value: string, now: number): number | undefined {
  const text = value.trim();
  if (SECONDS.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isFinite(at) && /[A-Za-z]/.test(text) ? Math.max(0, at - now) : undefined;
}
