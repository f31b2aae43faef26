import { describe, expect, it } from 'vitest';
import { parseCount, parseDuration, parseRetryAfter, parseTime } from '../../src/ratelimit/parse.js';
import { MAX_QUOTAS, QuotaStore, REFILLED_TTL_MS, UNDATED_TTL_MS } from '../../src/ratelimit/quota-store.js';
import { readHeaders } from '../../src/ratelimit/read-headers.js';

describe('rate-limit header values', () => {
  it('reads OpenAI and Groq durations', () => {
    expect(parseDuration('6m0s')).toBe(360_000);
    expect(parseDuration('1s')).toBe(1000);
    expect(parseDuration('12ms')).toBe(12);
    expect(parseDuration('0.5s')).toBe(500);
    expect(parseDuration('2m59.56s')).toBeCloseTo(179_560, 6);
    expect(parseDuration('1h2m3s')).toBe(3_723_000);
    expect(parseDuration('7.66')).toBe(7660);
    for (const bad of ['', 'soon', '5 minutes', 'm', '-1s']) expect(parseDuration(bad)).toBeUndefined();
  });

  it('reads counts; -1 is a placeholder (null), anything else unreadable', () => {
    expect(parseCount('499')).toBe(499);
    expect(parseCount('-1')).toBeNull();
    for (const bad of ['', 'lots', '1.5', '1e3']) expect(parseCount(bad)).toBeUndefined();
  });

  it('reads RFC 3339 times and retry-after in seconds or as an HTTP date', () => {
    expect(parseTime('2026-11-30T21:00:05Z')).toBe(Date.UTC(2026, 10, 30, 21, 0, 5));
    expect(parseTime('in a minute')).toBeUndefined();
    const now = Date.UTC(2026, 10, 30, 21, 0, 0);
    expect(parseRetryAfter('2', now)).toBe(2000);
    expect(parseRetryAfter('Mon, 30 Nov 2026 21:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('later', now)).toBeUndefined();
  });

  it('names each header it cannot read, and reads the rest', () => {
    const read = readHeaders(new Headers({ 'x-ratelimit-remaining-requests': 'lots', 'x-ratelimit-limit-tokens': '100', 'x-ratelimit-reset-tokens': 'soon' }), 0);
    expect(read.unreadable.sort()).toEqual(['x-ratelimit-remaining-requests', 'x-ratelimit-reset-tokens']);
    expect(read.quotas).toEqual([{ resource: 'tokens', limit: 100, remaining: undefined, resetAt: undefined }]);
  });
});

describe('QuotaStore', () => {
  const reading = (remaining: number, resetAt: number | undefined, limit: number | null = 100) => ({ resource: 'requests' as const, limit: limit ?? undefined, remaining, resetAt });

  it('keeps the last value per provider, server, model and resource', () => {
    const store = new QuotaStore();
    store.set('openai', 'api.openai.com', 'gpt-4o', reading(90, 1000), 0);
    store.set('openai', 'api.openai.com', 'gpt-4o', reading(80, 1000), 10);
    store.set('openai', 'api.openai.com', 'gpt-4o-mini', reading(70, 1000), 10);
    expect(store.observe(20).map((o) => [o.entry.model, o.remaining])).toEqual([['gpt-4o', 80], ['gpt-4o-mini', 70]]);
  });

  it('reads a quota as refilled once its window resets, then forgets it; an undated one is left out after a minute', () => {
    const store = new QuotaStore();
    store.set('p', 's', 'm', reading(5, 1000), 0);
    expect(store.observe(999)[0]).toMatchObject({ remaining: 5, resetSeconds: 0.001 });
    expect(store.observe(1000)[0]).toMatchObject({ remaining: 100, limit: 100, resetSeconds: 0 });
    expect(store.observe(1000 + REFILLED_TTL_MS)).toEqual([]);
    store.set('p', 's', 'm', reading(5, undefined), 0);
    expect(store.observe(UNDATED_TTL_MS - 1)).toHaveLength(1);
    expect(store.observe(UNDATED_TTL_MS)).toEqual([]);
    store.set('p', 's', 'm', reading(5, 1000, null), 0);
    expect(store.observe(1000)).toEqual([]);
  });

  it('holds at most MAX_QUOTAS, dropping the one seen longest ago', () => {
    const store = new QuotaStore();
    for (let i = 0; i <= MAX_QUOTAS; i++) store.set('p', 's', `m${i}`, reading(1, 10_000), i);
    const models = store.observe(0).map((o) => o.entry.model);
    expect(models).toHaveLength(MAX_QUOTAS);
    expect(models).not.toContain('m0');
    expect(models).toContain(`m${MAX_QUOTAS}`);
  });
});
