import { resolveConfig } from './config.js';
import { createMeteredFetch } from './fetch/metered-fetch.js';
import type { MeterOptions } from './types.js';

/**
 * A fetch that meters every call to an OpenAI-style endpoint (POST `/chat/completions`,
 * `/responses`, `/completions`, `/embeddings`) and passes every other call through untouched.
 * Give it to any SDK that takes a custom fetch. Without `instrument()`'s knowledge of the openai
 * SDK's retries, each HTTP attempt is metered as its own request.
 *
 * @throws InferometerConfigError when an option is invalid
 * @example
 * const anyClient = new SomeSdk({ fetch: meteredFetch({ workload: 'batch' }) });
 */
export function meteredFetch(options?: MeterOptions): typeof globalThis.fetch {
  const config = resolveConfig(options, true);
  const custom = config.fetch;
  // Looked up per call, so a fetch installed after set-up (a test double, an undici agent) is used.
  return createMeteredFetch(config, custom !== undefined ? () => custom : () => globalThis.fetch);
}
