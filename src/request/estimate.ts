import type { JsonObject } from '../protocols/protocol.js';

const CHARS_PER_TOKEN = 4;
const MAX_DEPTH = 8;

/**
 * Input tokens guessed from the prompt's characters (4 per token) in the members `keys` of a
 * request body, for a response that reports no usage; undefined when they hold no text.
 */
export function estimateTokens(body: JsonObject | undefined, keys: readonly string[]): number | undefined {
  if (body === undefined) return undefined;
  let chars = 0;
  const walk = (value: unknown, depth: number): void => {
    if (typeof value === 'string') chars += value.length;
    else if (depth < MAX_DEPTH && typeof value === 'object' && value !== null) {
      for (const v of Array.isArray(value) ? value : Object.values(value)) walk(v, depth + 1);
    }
  };
  for (const key of keys) walk(body[key], 0);
  return chars === 0 ? undefined : Math.ceil(chars / CHARS_PER_TOKEN);
}
