/**
 * The simulated provider: turns each request the scripted server receives into a script with
 * per-model latency (log-normal TTFT, cold starts, chunk gaps with occasional hiccups), answer
 * lengths from the request's token limit, tool calls for requests that offer tools, and faults
 * (429s, 5xx, connection resets, mid-stream disconnects, stalled streams).
 *
 * Every draw comes from a PRNG seeded by the demo seed and the request's key (the
 * `x-demo-request` header the workloads send) plus the SDK's retry count, so a seed always
 * scripts the same behaviour, however concurrent requests interleave.
 */
import type { RecordedRequest, Script } from '../../test/support/scripted-server.ts';
import { type Random, intBetween, logNormal, randomFor } from './random.ts';

/** The request header that names a request for the simulated provider, e.g. `chat-17`. */
export const REQUEST_KEY_HEADER = 'x-demo-request';

/** Something scheduled to happen to one named request on its first attempt, whatever the dice say. */
export type Incident = 'stall' | 'disconnect';

/** Fault probabilities, per request (`sticky*`: every attempt fails) or per attempt. */
interface FaultRates {
  readonly sticky429: number;
  readonly sticky503: number;
  readonly transient429: number;
  readonly transient500: number;
  readonly reset: number;
  readonly disconnect: number;
  readonly stall: number;
}

/** How one model behaves. Times in ms at time scale 1. */
interface ModelProfile {
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
  readonly faults: FaultRates;
}

const PROFILES: Readonly<Record<string, ModelProfile>> = {
  'gpt-4o-mini': {
    snapshot: 'gpt-4o-mini-2024-07-18',
    ttftMedianMs: 260, ttftSigma: 0.3,
    coldStartRate: 0, coldStartMs: [0, 0],
    gapMedianMs: 18, gapSigma: 0.35,
    hiccupRate: 0.003, hiccupMs: [120, 350],
    tokensPerChunk: 2,
    faults: { sticky429: 0.015, sticky503: 0.005, transient429: 0.05, transient500: 0.015, reset: 0.005, disconnect: 0.007, stall: 0.003 },
  },
  'gpt-4o': {
    snapshot: 'gpt-4o-2024-08-06',
    ttftMedianMs: 480, ttftSigma: 0.5,
    coldStartRate: 0.03, coldStartMs: [900, 1600],
    gapMedianMs: 26, gapSigma: 0.5,
    hiccupRate: 0.01, hiccupMs: [150, 500],
    tokensPerChunk: 2,
    faults: { sticky429: 0.01, sticky503: 0.015, transient429: 0.03, transient500: 0.03, reset: 0.005, disconnect: 0.015, stall: 0.005 },
  },
};
const DEFAULT_PROFILE = PROFILES['gpt-4o-mini']!;
/** No TTFT beyond this (ms at scale 1): keeps every honest request under the app's idle timeout. */
const MAX_TTFT_MS = 2400;

const WORDS = ['the', 'order', 'ships', 'today', 'and', 'your', 'refund', 'is', 'on', 'its', 'way', 'summary', 'of', 'report', 'with', 'three', 'key', 'points', 'latency', 'matters'];

/** How the simulated provider is set up. */
export interface ProviderOptions {
  readonly seed: number;
  /** Multiplies every scripted time (1 = realistic, smaller = faster runs). */
  readonly timeScale: number;
  /** Request key -> what happens to it on its first attempt. */
  readonly incidents: Readonly<Record<string, Incident>>;
}

interface Body {
  model?: string;
  max_completion_tokens?: number;
  max_tokens?: number;
  messages?: Array<{ role?: string }>;
  tools?: Array<{ function?: { name?: string; parameters?: { properties?: Record<string, unknown> } } }>;
}

/**
 * The scripted server's fallback: one script per request, drawn from the model's profile.
 * @example server.setFallback(simulatedProvider({ seed: 7, timeScale: 1, incidents: {} }))
 */
export function simulatedProvider(options: ProviderOptions): (req: RecordedRequest, index: number) => Script {
  const { seed, timeScale: scale, incidents } = options;
  return (req, index) => {
    const body = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Body;
    const profile = PROFILES[body.model ?? ''] ?? DEFAULT_PROFILE;
    const key = req.headers[REQUEST_KEY_HEADER] ?? `request-${index}`;
    const attempt = Number(req.headers['x-stainless-retry-count'] ?? 0);
    const perRequest = randomFor(seed, key);
    const perAttempt = randomFor(seed, `${key}#${attempt}`);

    const failure = httpFailure(profile.faults, perRequest(), attempt === 0 ? perAttempt() : 1, perAttempt, scale);
    if (failure !== undefined) return failure;

    const ttftMs = Math.min(MAX_TTFT_MS, logNormal(perAttempt, profile.ttftMedianMs, profile.ttftSigma) + coldStart(profile, perAttempt));
    const answer = answerFor(body, profile, perAttempt);
    const gapMs = answer.chunks.slice(1).map(() => gap(profile, perAttempt) * scale);
    const incident = attempt === 0 ? incidents[key] ?? drawIncident(profile.faults, perAttempt) : undefined;
    const cutAfter = intBetween(perAttempt, 1, Math.max(1, answer.chunks.length - 1));
    return {
      kind: 'chat-stream',
      model: profile.snapshot,
      headersMs: Math.min(ttftMs, 40) * scale,
      ttftMs: ttftMs * scale,
      gapMs,
      chunks: answer.chunks,
      usage: { input: inputTokens(body), output: answer.tokens },
      ...(answer.tool !== undefined ? { toolCall: { name: answer.tool } } : {}),
      ...(incident === 'stall' ? { stallAfter: cutAfter } : {}),
      ...(incident === 'disconnect' ? { disconnectAfter: cutAfter } : {}),
    };
  };
}

/** A rate limit, a server error or a connection reset, if the dice (or a sticky fault) say so. */
function httpFailure(rates: FaultRates, stickyDraw: number, attemptDraw: number, random: Random, scale: number): Script | undefined {
  const retryAfter = (min: number, max: number) => ({ 'retry-after-ms': String(Math.round(intBetween(random, min, max) * scale)) });
  if (stickyDraw < rates.sticky429) return { kind: 'json', status: 429, headers: retryAfter(20, 60) };
  if (stickyDraw < rates.sticky429 + rates.sticky503) return { kind: 'json', status: 503, delayMs: 30 * scale, headers: retryAfter(50, 100) };
  let edge = rates.transient429;
  if (attemptDraw < edge) return { kind: 'json', status: 429, headers: retryAfter(20, 60) };
  if (attemptDraw < (edge += rates.transient500)) return { kind: 'json', status: 500, delayMs: 80 * scale, headers: retryAfter(50, 100) };
  if (attemptDraw < (edge += rates.reset)) return { kind: 'reset', afterMs: 5 * scale };
  return undefined;
}

function drawIncident(rates: FaultRates, random: Random): Incident | undefined {
  const draw = random();
  if (draw < rates.disconnect) return 'disconnect';
  if (draw < rates.disconnect + rates.stall) return 'stall';
  return undefined;
}

function coldStart(profile: ModelProfile, random: Random): number {
  return random() < profile.coldStartRate ? intBetween(random, ...profile.coldStartMs) : 0;
}

function gap(profile: ModelProfile, random: Random): number {
  if (random() < profile.hiccupRate) return intBetween(random, ...profile.hiccupMs);
  return logNormal(random, profile.gapMedianMs, profile.gapSigma);
}

/** Roughly 4 characters per token, as OpenAI's tokenizers average on English. */
function inputTokens(body: Body): number {
  return Math.max(1, Math.ceil(JSON.stringify(body.messages ?? []).length / 4));
}

/**
 * What the model answers: the next tool it has not called yet (one call per offered tool, in
 * order, as the app's tool results come back), else text of 50-100% of the token limit.
 */
function answerFor(body: Body, profile: ModelProfile, random: Random): { chunks: string[]; tokens: number; tool?: string } {
  const toolResults = (body.messages ?? []).filter((m) => m.role === 'tool').length;
  const tool = body.tools?.[toolResults]?.function;
  if (tool?.name !== undefined) {
    const fields = Object.keys(tool.parameters?.properties ?? { query: true });
    const args = JSON.stringify(Object.fromEntries(fields.map((f) => [f, `${f.slice(0, 3).toUpperCase()}-${intBetween(random, 1000, 9999)}`])));
    const chunks = args.match(/.{1,6}/gs) ?? [args];
    return { chunks, tokens: Math.ceil(args.length / 4), tool: tool.name };
  }
  const limit = body.max_completion_tokens ?? body.max_tokens ?? 256;
  const tokens = intBetween(random, Math.ceil(limit / 2), limit);
  const chunks: string[] = [];
  for (let left = tokens; left > 0; left -= profile.tokensPerChunk) {
    const words = Math.min(left, profile.tokensPerChunk);
    chunks.push(Array.from({ length: words }, () => ` ${WORDS[intBetween(random, 0, WORDS.length - 1)]}`).join(''));
  }
  return { chunks, tokens };
}
