/**
 * How each model of the simulated provider behaves: latency (log-normal TTFT, cold starts, chunk
 * gaps with occasional hiccups), how many tokens a chunk carries, and how often it fails, in the
 * ways its protocol fails. Times in ms at time scale 1.
 */
import type { Protocol } from '../../test/support/scripted-server-routes.ts';

/** Fault probabilities, per request (`sticky*`: every attempt fails) or per attempt. */
export interface FaultRates {
  /** 429 on every attempt (a quota the retries cannot get past). */
  readonly sticky429: number;
  /** The protocol's overload status on every attempt (OpenAI 503, Anthropic 529, Gemini 503). */
  readonly stickyOverload: number;
  readonly transient429: number;
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
  /** Anthropic: share of requests whose cached prompt prefix is still warm (a read, else a write). */
  readonly cacheHitRate?: number;
  /** Gemini: thinking speed, tokens/s; thinking happens before the first visible token. */
  readonly thinkingTokensPerSecond?: number;
}

export const PROFILES: Readonly<Record<string, ModelProfile>> = {
  'gpt-4o-mini': {
    protocol: 'openai',
    snapshot: 'gpt-4o-mini-2024-07-18',
    ttftMedianMs: 260, ttftSigma: 0.3,
    coldStartRate: 0, coldStartMs: [0, 0],
    gapMedianMs: 18, gapSigma: 0.35,
    hiccupRate: 0.003, hiccupMs: [120, 350],
    tokensPerChunk: 2,
    overloadStatus: 503,
    faults: { sticky429: 0.015, stickyOverload: 0.005, transient429: 0.05, transient5xx: 0.015, reset: 0.005, disconnect: 0.007, stall: 0.003, streamError: 0 },
  },
  // Slower to start than gpt-4o-mini, with a heavier tail; Anthropic's characteristic fault is
  // overload: 529s (the SDK retries them) and `overloaded_error` inside a started stream (it cannot).
  'claude-sonnet-4-6': {
    protocol: 'anthropic',
    snapshot: 'claude-sonnet-4-6',
    ttftMedianMs: 560, ttftSigma: 0.45,
    coldStartRate: 0.02, coldStartMs: [800, 1400],
    gapMedianMs: 32, gapSigma: 0.45,
    hiccupRate: 0.01, hiccupMs: [150, 450],
    tokensPerChunk: 3,
    overloadStatus: 529,
    faults: { sticky429: 0.005, stickyOverload: 0.01, transient429: 0.02, transient5xx: 0.05, reset: 0.003, disconnect: 0.005, stall: 0.003, streamError: 0.02 },
    cacheHitRate: 0.9,
  },
  // Fewer, larger chunks than the others (about 24 tokens each), after some thinking; 429s when the
  // quota runs out and 503 UNAVAILABLE, before the stream or inside it. @google/genai retries nothing
  // unless told to, so every fault is a failed request.
  'gemini-2.5-flash': {
    protocol: 'gemini',
    snapshot: 'gemini-2.5-flash',
    ttftMedianMs: 380, ttftSigma: 0.35,
    coldStartRate: 0, coldStartMs: [0, 0],
    gapMedianMs: 110, gapSigma: 0.4,
    hiccupRate: 0.01, hiccupMs: [200, 500],
    tokensPerChunk: 24,
    overloadStatus: 503,
    faults: { sticky429: 0, stickyOverload: 0, transient429: 0.03, transient5xx: 0.015, reset: 0.003, disconnect: 0.004, stall: 0.002, streamError: 0.015 },
    thinkingTokensPerSecond: 400,
  },
};

/** The profile of a model the simulated provider does not know: the default model of its protocol. */
export const DEFAULT_PROFILE: Readonly<Record<Protocol, ModelProfile>> = {
  openai: PROFILES['gpt-4o-mini']!,
  anthropic: PROFILES['claude-sonnet-4-6']!,
  gemini: PROFILES['gemini-2.5-flash']!,
};
