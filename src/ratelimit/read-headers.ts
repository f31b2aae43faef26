import { parseCount, parseDuration, parseRetryAfter, parseTime } from './parse.js';

/*
 * The rate-limit headers providers send with every response, in their dialects, normalised:
 * - OpenAI, Azure OpenAI and Groq: `x-ratelimit-{limit,remaining,reset}-{requests,tokens}`,
 *   resets as durations (`6m0s`); Azure sends `-1` or `0` where it does not know.
 * - Anthropic: `anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{limit,remaining,reset}`,
 *   resets as RFC 3339 times.
 * - Any: `retry-after-ms`, `retry-after` (on 429 and 503), and OpenAI's `openai-processing-ms`.
 * Read once per response, never per chunk.
 */

/** What a quota's window looked like when a response left the provider. */
export interface QuotaReading {
  readonly resource: 'requests' | 'tokens' | 'input_tokens' | 'output_tokens';
  /** The window's limit; undefined when unknown. */
  readonly limit: number | undefined;
  /** What is left of it; undefined when unknown. */
  readonly remaining: number | undefined;
  /** When it resets (epoch ms); undefined when unknown. */
  readonly resetAt: number | undefined;
}

/** Everything the headers of one response say about rate limits and the provider's own timing. */
export interface HeaderReadings {
  readonly quotas: QuotaReading[];
  /** How long the provider asks to wait before a retry (ms). */
  readonly retryAfterMs: number | undefined;
  /** The provider's own processing time (ms), where it reports one (`openai-processing-ms`). */
  readonly processingMs: number | undefined;
  /** Header names whose value could not be read (for one diag warning each). */
  readonly unreadable: string[];
}

type Get = (name: string) => string | null;

const OPENAI_RESOURCES = [
  ['requests', 'requests'],
  ['tokens', 'tokens'],
] as const;
const ANTHROPIC_RESOURCES = [
  ['requests', 'requests'],
  ['tokens', 'tokens'],
  ['input-tokens', 'input_tokens'],
  ['output-tokens', 'output_tokens'],
] as const;

/** Reads the rate-limit headers of a response (`now`: epoch ms when the headers arrived). */
export function readHeaders(headers: Headers, now: number): HeaderReadings {
  const get: Get = (name) => headers.get(name);
  const unreadable: string[] = [];
  const quotas: QuotaReading[] = [];
  for (const [suffix, resource] of OPENAI_RESOURCES) {
    const reading = quota(get, unreadable, resource, `x-ratelimit-limit-${suffix}`, `x-ratelimit-remaining-${suffix}`, `x-ratelimit-reset-${suffix}`, (v) => {
      const ms = parseDuration(v);
      return ms === undefined ? undefined : now + ms;
    });
    if (reading !== undefined) quotas.push(reading);
  }
  for (const [suffix, resource] of ANTHROPIC_RESOURCES) {
    const base = `anthropic-ratelimit-${suffix}`;
    const reading = quota(get, unreadable, resource, `${base}-limit`, `${base}-remaining`, `${base}-reset`, parseTime);
    if (reading !== undefined) quotas.push(reading);
  }
  return {
    quotas,
    retryAfterMs: retryAfter(get, unreadable, now),
    processingMs: number(get, unreadable, 'openai-processing-ms'),
    unreadable,
  };
}

function quota(
  get: Get,
  unreadable: string[],
  resource: QuotaReading['resource'],
  limitName: string,
  remainingName: string,
  resetName: string,
  parseReset: (value: string) => number | undefined,
): QuotaReading | undefined {
  const limitText = get(limitName);
  const remainingText = get(remainingName);
  const resetText = get(resetName);
  if (limitText === null && remainingText === null && resetText === null) return undefined;
  let limit = count(limitText, limitName, unreadable);
  let remaining = count(remainingText, remainingName, unreadable);
  // Azure's placeholders: a limit of 0 is no limit anyone has, and a 0 left of an unknown limit
  // is the same placeholder; both mean "unknown".
  if (limit === 0) limit = undefined;
  if (limit === undefined && remaining === 0) remaining = undefined;
  let resetAt: number | undefined;
  if (resetText !== null) {
    resetAt = parseReset(resetText);
    if (resetAt === undefined) unreadable.push(resetName);
  }
  if (limit === undefined && remaining === undefined && resetAt === undefined) return undefined;
  return { resource, limit, remaining, resetAt };
}

function count(text: string | null, name: string, unreadable: string[]): number | undefined {
  if (text === null) return undefined;
  const value = parseCount(text);
  if (value === undefined) unreadable.push(name);
  return value ?? undefined;
}

function number(get: Get, unreadable: string[], name: string): number | undefined {
  const text = get(name);
  if (text === null) return undefined;
  const value = Number(text.trim());
  if (text.trim() === '' || !Number.isFinite(value) || value < 0) {
    unreadable.push(name);
    return undefined;
  }
  return value;
}

function retryAfter(get: Get, unreadable: string[], now: number): number | undefined {
  const ms = get('retry-after-ms');
  if (ms !== null) {
    const value = Number(ms.trim());
    if (ms.trim() !== '' && Number.isFinite(value) && value >= 0) return value;
    unreadable.push('retry-after-ms');
  }
  const header = get('retry-after');
  if (header === null) return undefined;
  const value = parseRetryAfter(header, now);
  if (value === undefined) unreadable.push('retry-after');
  return value;
}
