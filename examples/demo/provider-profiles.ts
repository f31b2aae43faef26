/**
 * How each model of the simulated provider behaves: latency (log-normal time to the response
 * headers and TTFT, cold starts, chunk gaps with occasional hiccups), how many tokens a chunk
 * carries, its rate limits, and how often it fails, in the ways its protocol fails. Times in ms at
 * time scale 1.
 */
import type { Protocol } from '../../test/support/scripted-server-routes.ts';
import type { QuotaSpec } from './provider-quota.ts';

/**
 * Fault probabilities, per request (`sticky*`: every attempt fails) or per attempt. No 429 here:
 * those come from the model's quota running out (`quota`).
 */
export interface FaultRates {
  /** The protocol's overload status on every attempt (OpenAI 503, Anthropic 529, Gemini 503). */
  readonly stickyOverload: number;
  /** The protocol's transient server error (OpenAI 500, Anthropic 529 overloaded, Gemini 503 UNAVAILABLE). */
  readonly transient5xx: number;
  /** Connection reset before any header. */
  readonly reset: number;
  /** Connection lost mid-answer. */
  readonly disconnect: number;
  /** The stream goes silent until the app gives up. */
  readonly stall: number;
  /** An error event inside a 200 stream (Anthropic `overloaded_error`, Gemini a 503 chunk); 0 for OpenAI chat. */
  readonly streamError: number;
}

export interface ModelProfile {
  readonly protocol: Protocol;
  /** The model the response names (`gen_ai.response.model`). */
  readonly snapshot: string;
  /**
   * When the response headers leave: the gateway, the queue and the start of the model's work
   * (log-normal, never after the first token). What `openai-processing-ms` reports.
   */
  readonly headersMedianMs: number;
  readonly headersSigma: number;
  readonly ttftMedianMs: number;
  readonly ttftSigma: number;
  readonly coldStartRate: number;
  readonly coldStartMs: readonly [number, number];
  readonly gapMedianMs: number;
  readonly gapSigma: number;
  /** Probability, per gap, of a pause (a scheduler hiccup on the provider side). */
  readonly hiccupRate: number;
  readonly hiccupMs: readonly [number, number];
  readonly tokensPerChunk: number;
  /** HTTP status of an overload: what `transient5xx` and `stickyOverload` answer. */
  readonly overloadStatus: number;
  readonly faults: FaultRates;
  /** Rate limits per window; a request that would overdraw one is answered 429 until the window resets. */
  readonly quota: QuotaSpec;
  /** Anthropic: share of requests whose cached prompt prefix is still warm (a read, else a write). */
  readonly cacheHitRate?: number;
  /** Gemini: thinking speed, tokens/s; thinking happens before the first visible token. */
  readonly thinkingTokensPerSecond?: number;
}

export const PROFILES: Readonly<Record<string, ModelProfile>> = {
  'gpt-4o-mini': {
    protocol: 'openai',
    snapshot: 'gpt-4o-mini-2024-07-18',
    headersMedianMs: 110, headersSigma: 0.45,
    ttftMedianMs: 260, ttftSigma: 0.3,
    coldStartRate: 0, coldStartMs: [0, 0],
    gapMedianMs: 18, gapSigma: 0.35,
    hiccupRate: 0.003, hiccupMs: [120, 350],
    tokensPerChunk: 2,
    overloadStatus: 503,
    faults: { stickyOverload: 0.005, transient5xx: 0.015, reset: 0.005, disconnect: 0.007, stall: 0.003, streamError: 0 },
    quota: { windowMs: 6000, limits: { requests: 64, tokens: 15_000 } },
  },
  // Slower to start than gpt-4o-mini, with a heavier tail; Anthropic's characteristic fault is
  // overload: 529s (the SDK retries them) and `overloaded_error` inside a started stream (it cannot).
  'claude-sonnet-4-6': {
    protocol: 'anthropic',
    snapshot: 'claude-sonnet-4-6',
    headersMedianMs: 170, headersSigma: 0.5,
    ttftMedianMs: 560, ttftSigma: 0.45,
    coldStartRate: 0.02, coldStartMs: [800, 1400],
    gapMedianMs: 32, gapSigma: 0.45,
    hiccupRate: 0.01, hiccupMs: [150, 450],
    tokensPerChunk: 3,
    overloadStatus: 529,
    faults: { stickyOverload: 0.01, transient5xx: 0.05, reset: 0.003, disconnect: 0.005, stall: 0.003, streamError: 0.02 },
    // Output tokens (counted from max_tokens) run out first, as they often do on Anthropic.
    quota: { windowMs: 5000, limits: { requests: 40, input_tokens: 5000, output_tokens: 2800 } },
    cacheHitRate: 0.9,
  },
  // Fewer, larger chunks than the others (about 24 tokens each), after some thinking; 429s when the
  // quota runs out and 503 UNAVAILABLE, before the stream or inside it. @google/genai retries nothing
  // unless told to, so every fault is a failed request.
  'gemini-2.5-flash': {
    protocol: 'gemini',
    snapshot: 'gemini-2.5-flash',
    headersMedianMs: 140, headersSigma: 0.4,
    ttftMedianMs: 380, ttftSigma: 0.35,
    coldStartRate: 0, coldStartMs: [0, 0],
    gapMedianMs: 110, gapSigma: 0.4,
    hiccupRate: 0.01, hiccupMs: [200, 500],
    tokensPerChunk: 24,
    overloadStatus: 503,
    faults: { stickyOverload: 0, transient5xx: 0.015, reset: 0.003, disconnect: 0.004, stall: 0.002, streamError: 0.015 },
    // Enforced, never announced: Gemini sends no rate-limit headers.
    quota: { windowMs: 6000, limits: { requests: 30, tokens: 40_000 } },
    thinkingTokensPerSecond: 400,
  },
};

/** The profile of a model the simulated provider does not know: the default model of its protocol. */
export const DEFAULT_PROFILE: Readonly<Record<Protocol, ModelProfile>> = {
  openai: PROFILES['gpt-4o-mini']!,
  anthropic: PROFILES['claude-sonnet-4-6']!,
  gemini: PROFILES['gemini-2.5-flash']!,
};
