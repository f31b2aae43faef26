/**
 * The simulated provider's rate limits: one quota per model, counted in fixed windows (requests,
 * and tokens the way each API counts them), drained by every request it lets through and refilled
 * when the window ends. A request that would overdraw a quota is answered 429 until the window
 * resets. This is the only state of the simulated provider: unlike the dice, what it decides
 * depends on when requests arrive, so which requests meet a 429 moves a little from run to run.
 */
import type { Protocol } from '../../test/support/scripted-server-routes.ts';
import type { Ask } from './provider-wire.ts';

/** What a quota counts, as inferometer's `inferometer.ratelimit.resource` names it. */
export type Resource = 'requests' | 'tokens' | 'input_tokens' | 'output_tokens';
export type Amounts = Partial<Record<Resource, number>>;

/** A model's rate limits: the window, and how much of each counted resource one window allows. */
export interface QuotaSpec {
  /** Window length, ms at time scale 1 (the real APIs count per minute; the demo runs for 20 s). */
  readonly windowMs: number;
  readonly limits: Amounts;
}

/** A quota as one response reports it. */
export interface QuotaState {
  readonly limits: Amounts;
  /** What is left of each limit after this request. */
  readonly remaining: Amounts;
  /** ms until the window ends and the quota refills (scaled). */
  readonly resetMs: number;
}

export interface Admission {
  readonly admitted: boolean;
  readonly state: QuotaState;
}

/**
 * What a request costs of each resource, counted when it arrives as each API counts it: OpenAI
 * and Gemini the prompt plus the output limit (`max_tokens`), Anthropic input tokens apart from
 * output tokens, the prompt's cached prefix not counted (cache reads do not count toward its input
 * limit) and the output estimated from `max_tokens`.
 */
export function costOf(protocol: Protocol, ask: Ask): Amounts {
  if (protocol === 'anthropic') return { requests: 1, input_tokens: ask.inputTokens - ask.cacheableTokens, output_tokens: ask.maxTokens };
  return { requests: 1, tokens: ask.inputTokens + ask.maxTokens };
}

interface Window {
  /** When the model's first window began (performance.now() ms). */
  readonly origin: number;
  index: number;
  used: Amounts;
}

/**
 * The quotas of every model the simulated provider has seen. Windows are fixed, one after the
 * other from the model's first request: a window's use is forgotten when the next one begins.
 * @example const book = new QuotaBook(1); book.admit('gpt-4o-mini', spec, { requests: 1, tokens: 300 }, performance.now())
 */
export class QuotaBook {
  readonly #scale: number;
  readonly #windows = new Map<string, Window>();

  /** @param scale multiplies every window length (the demo's time scale) */
  constructor(scale: number) {
    this.#scale = scale;
  }

  /**
   * Lets a request through if no quota of its model would be overdrawn, and counts it; otherwise
   * counts nothing. Either way, says what is left and when the window resets.
   * @param now performance.now() ms when the request arrived
   */
  admit(model: string, spec: QuotaSpec, cost: Amounts, now: number): Admission {
    const length = spec.windowMs * this.#scale;
    const window = this.#windows.get(model) ?? { origin: now, index: 0, used: {} };
    this.#windows.set(model, window);
    const index = Math.floor((now - window.origin) / length);
    if (index !== window.index) {
      window.index = index;
      window.used = {};
    }
    const resources = Object.keys(spec.limits) as Resource[];
    const left = (r: Resource) => spec.limits[r]! - (window.used[r] ?? 0);
    const admitted = resources.every((r) => (cost[r] ?? 0) <= left(r));
    if (admitted) for (const r of resources) window.used[r] = (window.used[r] ?? 0) + (cost[r] ?? 0);
    return {
      admitted,
      state: {
        limits: spec.limits,
        remaining: Object.fromEntries(resources.map((r) => [r, left(r)])),
        resetMs: window.origin + (index + 1) * length - now,
      },
    };
  }
}
