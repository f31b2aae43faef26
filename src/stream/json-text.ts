import type { Usage } from '../usage.js';

/*
 * Cheap look-ups in JSON text that avoid parsing a whole response: the model name and the
 * `usage` object. Both keys can only match as keys: inside a JSON string their quotes are
 * escaped (`\"usage\"`), so completion text cannot fake them.
 */

const MODEL = /"model"\s*:\s*"((?:[^"\\]|\\.){1,200})"/;
const MAX_MODEL_LENGTH = 128;

/** The first `"model": "…"` value in `text`, cut to 128 characters. */
export function findModel(text: string): string | undefined {
  const match = MODEL.exec(text);
  return match?.[1]?.slice(0, MAX_MODEL_LENGTH);
}

/** The last `"usage": {…}` object in `text`, normalised; undefined if absent, null or malformed. */
export function findUsage(text: string): Usage | undefined {
  const key = text.lastIndexOf('"usage"');
  if (key === -1) return undefined;
  let i = key + 7;
  while (i < text.length && text.charCodeAt(i) !== 58 /* : */) i++;
  i++;
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  if (text.charCodeAt(i) !== 123 /* { */) return undefined;
  let depth = 0;
  for (let j = i; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === 123) depth++;
    else if (c === 125 /* } */ && --depth === 0) {
      try {
        return normalizeUsage(JSON.parse(text.slice(i, j + 1)));
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

/**
 * Reads the usage shapes of chat completions (`prompt_tokens`, `completion_tokens`), the
 * Responses API (`input_tokens`, `output_tokens`) and embeddings (`prompt_tokens` only).
 */
export function normalizeUsage(value: unknown): Usage | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const u = value as Record<string, unknown>;
  const input = count(u['prompt_tokens']) ?? count(u['input_tokens']);
  const output = count(u['completion_tokens']) ?? count(u['output_tokens']);
  if (input === undefined && output === undefined) return undefined;
  const details = (u['prompt_tokens_details'] ?? u['input_tokens_details']) as Record<string, unknown> | null | undefined;
  const cachedInput = (typeof details === 'object' && details !== null ? count(details['cached_tokens']) : undefined) ?? 0;
  return { input, cacheRead: cachedInput, cacheWrite: 0, output, reasoning: 0, estimated: false };
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/** The provider's error code from an error object (`{code, type}`), if it has a usable one. */
export function errorCodeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as Record<string, unknown>;
  for (const key of ['code', 'type']) {
    const value = e[key];
    if (typeof value === 'string' && value.length > 0) return value;
    if (typeof value === 'number') return String(value);
  }
  return undefined;
}
