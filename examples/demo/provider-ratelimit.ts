/**
 * What each API of the simulated provider says about its rate limits, in its own dialect: the
 * headers on every response, and the 429 it answers when a quota runs out. No dice and no state
 * here: `provider-quota.ts` decides, this module only words it.
 *
 * - OpenAI: `x-ratelimit-{limit,remaining,reset}-{requests,tokens}`, resets as durations (`4.2s`,
 *   `850ms`, `6m0s`), and `openai-processing-ms` (its own time to the response headers); a 429
 *   carries `retry-after-ms` and `retry-after` and names the quota in its error body.
 * - Anthropic: `anthropic-ratelimit-{requests,input-tokens,output-tokens,tokens}-{limit,remaining,reset}`,
 *   resets as RFC 3339 times, `tokens` being the most restrictive token limit; a 429 carries
 *   `retry-after` in whole seconds and a `rate_limit_error`.
 * - Gemini: no rate-limit header at all; its 429 (`RESOURCE_EXHAUSTED`) says how long to wait in
 *   the body (`google.rpc.RetryInfo`), not in a header.
 */
import type { Protocol } from '../../test/support/scripted-server-routes.ts';
import type { JsonScript } from '../../test/support/scripted-server.ts';
import type { QuotaState, Resource } from './provider-quota.ts';

/** OpenAI's duration format: `850ms`, `4.2s`, `6m0s`. */
export function openAIDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(3))}s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)}m${seconds % 60}s`;
}

/** RFC 3339, as Anthropic writes its resets: the time the window ends. */
const rfc3339 = (epochMs: number): string => new Date(Math.ceil(epochMs)).toISOString();

const ANTHROPIC_NAMES: Readonly<Partial<Record<Resource, string>>> = { requests: 'requests', input_tokens: 'input-tokens', output_tokens: 'output-tokens' };

/**
 * The rate-limit headers of a response, in the protocol's dialect (none for Gemini).
 * @param arrivedAt Date.now() when the request arrived (what `state` was counted at)
 * @param afterMs when the headers leave, scaled ms after that
 */
export function quotaHeaders(protocol: Protocol, state: QuotaState, arrivedAt: number, afterMs: number): Record<string, string> {
  const out: Record<string, string> = {};
  if (protocol === 'openai') {
    for (const resource of ['requests', 'tokens'] as const) {
      if (state.limits[resource] === undefined) continue;
      out[`x-ratelimit-limit-${resource}`] = String(state.limits[resource]);
      out[`x-ratelimit-remaining-${resource}`] = String(state.remaining[resource]);
      out[`x-ratelimit-reset-${resource}`] = openAIDuration(state.resetMs - afterMs);
    }
  } else if (protocol === 'anthropic') {
    const reset = rfc3339(arrivedAt + state.resetMs);
    const write = (name: string, resource: Resource) => {
      out[`anthropic-ratelimit-${name}-limit`] = String(state.limits[resource]);
      out[`anthropic-ratelimit-${name}-remaining`] = String(state.remaining[resource]);
      out[`anthropic-ratelimit-${name}-reset`] = reset;
    };
    for (const [resource, name] of Object.entries(ANTHROPIC_NAMES) as Array<[Resource, string]>) if (state.limits[resource] !== undefined) write(name, resource);
    // `tokens`: whichever token limit is the most restrictive right now.
    const tokenLimits = (['input_tokens', 'output_tokens'] as const).filter((r) => state.limits[r] !== undefined);
    const tightest = tokenLimits.sort((a, b) => state.remaining[a]! / state.limits[a]! - state.remaining[b]! / state.limits[b]!)[0];
    if (tightest !== undefined) write('tokens', tightest);
  }
  return out;
}

/** OpenAI's own figure of the time it worked on a request before answering (ms): `openai-processing-ms`. */
export function processingHeaders(protocol: Protocol, ms: number): Record<string, string> {
  return protocol === 'openai' ? { 'openai-processing-ms': String(Math.max(1, Math.round(ms))) } : {};
}

/** The quota that ran out first: the one with the least left relative to its limit. */
function exhausted(state: QuotaState): Resource {
  const resources = Object.keys(state.limits) as Resource[];
  return resources.sort((a, b) => state.remaining[a]! / state.limits[a]! - state.remaining[b]! / state.limits[b]!)[0]!;
}

/**
 * The 429 a protocol answers when a quota of `model` has run out, with the quota headers, the
 * wait until the window resets, and its error body.
 * @param arrivedAt Date.now() when the request arrived
 * @param delayMs when the answer leaves, scaled ms after that
 */
export function rateLimited(protocol: Protocol, model: string, state: QuotaState, arrivedAt: number, delayMs: number): JsonScript {
  const waitMs = Math.max(1, Math.ceil(state.resetMs - delayMs));
  const seconds = Math.ceil(waitMs / 1000);
  const resource = exhausted(state);
  const headers = quotaHeaders(protocol, state, arrivedAt, delayMs);
  switch (protocol) {
    case 'openai': {
      const unit = resource === 'requests' ? 'requests per min (RPM)' : 'tokens per min (TPM)';
      const message = `Rate limit reached for ${model} in organization org-demo on ${unit}: Limit ${state.limits[resource]}, Used ${state.limits[resource]! - state.remaining[resource]!}. Please try again in ${openAIDuration(waitMs)}.`;
      return {
        kind: 'json',
        status: 429,
        delayMs,
        headers: { ...headers, ...processingHeaders(protocol, delayMs), 'retry-after-ms': String(waitMs), 'retry-after': String(seconds) },
        body: { error: { message, type: resource, param: null, code: 'rate_limit_exceeded' } },
      };
    }
    case 'anthropic':
      return {
        kind: 'json',
        status: 429,
        delayMs,
        headers: { ...headers, 'retry-after': String(seconds) },
        body: {
          type: 'error',
          error: { type: 'rate_limit_error', message: `This request would exceed your organization's rate limit of ${state.limits[resource]} ${resource.replace('_', ' ')} per minute.` },
        },
      };
    case 'gemini':
      return {
        kind: 'json',
        status: 429,
        delayMs,
        body: {
          error: {
            code: 429,
            message: `You exceeded your current quota, please check your plan and billing details. Please retry in ${(waitMs / 1000).toFixed(1)}s.`,
            status: 'RESOURCE_EXHAUSTED',
            details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${seconds}s` }],
          },
        },
      };
  }
}
