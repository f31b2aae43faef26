/**
 * The simulated provider: turns each request the scripted server receives into a script with
 * the model's latency (log-normal time to the response headers and TTFT, cold starts, thinking,
 * chunk gaps with occasional hiccups), answer lengths from the request's token limit, tool calls
 * for requests that offer tools, prompt-cache reads and writes, the model's rate limits (a quota
 * per window, reported in each protocol's headers, answered 429 once it runs out), and the faults
 * of its protocol (5xx and 529s, connection resets, mid-stream disconnects, error events inside a
 * stream, stalled streams). It speaks OpenAI chat completions, Anthropic Messages and Gemini
 * streamGenerateContent, each on its own path of one server, as the real APIs do.
 *
 * Every draw comes from a PRNG seeded by the demo seed and the request's key (the
 * `x-demo-request` header the workloads send) plus the SDK's retry count, so a seed always
 * scripts the same behaviour, however concurrent requests interleave. The quotas are the
 * exception: they count the requests as they arrive (provider-quota.ts).
 */
import { protocolOf } from '../../test/support/scripted-server-routes.ts';
import type { RecordedRequest, Script } from '../../test/support/scripted-server.ts';
import { DEFAULT_PROFILE, type FaultRates, type ModelProfile, PROFILES } from './provider-profiles.ts';
import { QuotaBook, costOf } from './provider-quota.ts';
import { processingHeaders, quotaHeaders, rateLimited } from './provider-ratelimit.ts';
import { type Ask, type Turn, readAsk, render } from './provider-wire.ts';
import { type Random, intBetween, logNormal, randomFor } from './random.ts';

/** The request header that names a request for the simulated provider, e.g. `chat-17`. */
export const REQUEST_KEY_HEADER = 'x-demo-request';

/** Something scheduled to happen to one named request on its first attempt, whatever the dice say. */
export type Incident = 'stall' | 'disconnect' | 'stream-error';

/** No TTFT beyond this (ms at scale 1): keeps every honest request under the app's idle timeout. */
const MAX_TTFT_MS = 2400;
/** Gemini's thinking budget when the request sets none (dynamic thinking). */
const DEFAULT_THINKING_BUDGET = 256;
/** How long the gateway takes to answer a 429 (ms at scale 1): it does not reach a model. */
const RATE_LIMITED_MS = 6;

const WORDS = ['the', 'order', 'ships', 'today', 'and', 'your', 'refund', 'is', 'on', 'its', 'way', 'summary', 'of', 'report', 'with', 'three', 'key', 'points', 'latency', 'matters'];

/** How the simulated provider is set up. */
export interface ProviderOptions {
  readonly seed: number;
  /** Multiplies every scripted time (1 = realistic, smaller = faster runs). */
  readonly timeScale: number;
  /** Request key -> what happens to it on its first attempt. */
  readonly incidents: Readonly<Record<string, Incident>>;
}

/**
 * The scripted server's fallback: one script per request, drawn from the model's profile, in
 * the protocol of the request's path, after the model's quota has let it through.
 * @example server.setFallback(simulatedProvider({ seed: 7, timeScale: 1, incidents: {} }))
 */
export function simulatedProvider(options: ProviderOptions): (req: RecordedRequest, index: number) => Script {
  const { seed, timeScale: scale, incidents } = options;
  const quotas = new QuotaBook(scale);
  return (req, index) => {
    const protocol = protocolOf(req.path);
    const ask = readAsk(protocol, req);
    const profile = PROFILES[ask.model] ?? DEFAULT_PROFILE[protocol];
    const key = req.headers[REQUEST_KEY_HEADER] ?? `request-${index}`;
    // The openai and Anthropic SDKs number their attempts; @google/genai does not retry by default.
    const attempt = Number(req.headers['x-stainless-retry-count'] ?? 0);
    const perRequest = randomFor(seed, key);
    const perAttempt = randomFor(seed, `${key}#${attempt}`);
    const arrivedAt = Date.now();

    // The gateway counts the request against the model's quota before anything else.
    const admission = quotas.admit(ask.model, profile.quota, costOf(protocol, ask), req.receivedAt);
    if (!admission.admitted) return rateLimited(protocol, ask.model, admission.state, arrivedAt, RATE_LIMITED_MS * scale);
    const headersAfter = (ms: number) => ({ ...quotaHeaders(protocol, admission.state, arrivedAt, ms), ...processingHeaders(protocol, ms) });

    const stickyDraw = perRequest();
    const failure = httpFailure(profile, stickyDraw, attempt === 0 ? perAttempt() : 1, perAttempt, scale);
    if (failure !== undefined) return failure.kind === 'json' ? { ...failure, headers: { ...headersAfter(failure.delayMs ?? 0), ...failure.headers } } : failure;

    const thoughts = profile.thinkingTokensPerSecond === undefined ? 0 : thinking(ask, perAttempt);
    const thinkMs = thoughts === 0 ? 0 : (thoughts / profile.thinkingTokensPerSecond!) * 1000;
    const ttftMs = Math.min(MAX_TTFT_MS, logNormal(perAttempt, profile.ttftMedianMs, profile.ttftSigma) + coldStart(profile, perAttempt) + thinkMs);
    const answer = answerFor(ask, profile, perAttempt);
    const incident = attempt === 0 ? incidents[key] ?? drawIncident(profile.faults, perAttempt) : undefined;
    const cutAfter = intBetween(perAttempt, 1, Math.max(1, answer.chunks.length - 1));
    // A warm prompt cache is read; a cold one is written (and billed at the write price).
    const cacheRead = ask.cacheableTokens > 0 && perRequest() < (profile.cacheHitRate ?? 0) ? ask.cacheableTokens : 0;
    // Drawn apart, so that the other draws stay what they were before the headers had a time of their own.
    const headersMs = Math.min(ttftMs, logNormal(randomFor(seed, `${key}#${attempt}:headers`), profile.headersMedianMs, profile.headersSigma)) * scale;
    const turn: Turn = {
      model: profile.snapshot,
      headersMs,
      headers: headersAfter(headersMs),
      ttftMs: ttftMs * scale,
      gapMs: answer.chunks.slice(1).map(() => gap(profile, perAttempt) * scale),
      chunks: answer.chunks,
      ...(answer.tool !== undefined ? { tool: answer.tool } : {}),
      input: { total: ask.inputTokens, cacheRead, cacheWrite: ask.cacheableTokens - cacheRead },
      output: answer.tokens,
      thoughts,
      ...(incident !== undefined ? { cut: { after: cutAfter, how: incident } } : {}),
    };
    return render(protocol, turn);
  };
}

/** An overload or server error, or a connection reset, if the dice (or a sticky fault) say so. */
function httpFailure(profile: ModelProfile, stickyDraw: number, attemptDraw: number, random: Random, scale: number): Script | undefined {
  const rates = profile.faults;
  // OpenAI and Anthropic say how long to wait; Gemini sends no such header.
  const retryAfter = (min: number, max: number): Record<string, string> => (profile.protocol === 'gemini' ? {} : { 'retry-after-ms': String(Math.round(intBetween(random, min, max) * scale)) });
  if (stickyDraw < rates.stickyOverload) {
    return { kind: 'json', status: profile.overloadStatus, delayMs: 30 * scale, headers: retryAfter(50, 100) };
  }
  let edge = rates.transient5xx;
  if (attemptDraw < edge) {
    const status = profile.protocol === 'openai' ? 500 : profile.overloadStatus;
    return { kind: 'json', status, delayMs: 80 * scale, headers: retryAfter(50, 100) };
  }
  if (attemptDraw < (edge += rates.reset)) return { kind: 'reset', afterMs: 5 * scale };
  return undefined;
}

function drawIncident(rates: FaultRates, random: Random): Incident | undefined {
  const draw = random();
  let edge = rates.disconnect;
  if (draw < edge) return 'disconnect';
  if (draw < (edge += rates.stall)) return 'stall';
  if (draw < (edge += rates.streamError)) return 'stream-error';
  return undefined;
}

function coldStart(profile: ModelProfile, random: Random): number {
  return random() < profile.coldStartRate ? intBetween(random, ...profile.coldStartMs) : 0;
}

function gap(profile: ModelProfile, random: Random): number {
  if (random() < profile.hiccupRate) return intBetween(random, ...profile.hiccupMs);
  return logNormal(random, profile.gapMedianMs, profile.gapSigma);
}

/** Reasoning tokens: half to all of the request's thinking budget. */
function thinking(ask: Ask, random: Random): number {
  const budget = ask.thinkingBudget ?? DEFAULT_THINKING_BUDGET;
  return budget <= 0 ? 0 : intBetween(random, Math.ceil(budget / 2), budget);
}

/**
 * What the model answers: the next tool it has not called yet (one call per offered tool, in
 * order, as the app's tool results come back), else text of 50-100% of the token limit.
 */
function answerFor(ask: Ask, profile: ModelProfile, random: Random): { chunks: string[]; tokens: number; tool?: string } {
  if (ask.nextTool !== undefined) {
    const args = JSON.stringify(Object.fromEntries(ask.nextTool.fields.map((f) => [f, `${f.slice(0, 3).toUpperCase()}-${intBetween(random, 1000, 9999)}`])));
    // About 3 characters per token of argument JSON.
    const size = profile.tokensPerChunk * 3;
    const chunks = args.match(new RegExp(`.{1,${size}}`, 'gs')) ?? [args];
    return { chunks, tokens: Math.ceil(args.length / 4), tool: ask.nextTool.name };
  }
  const tokens = intBetween(random, Math.ceil(ask.maxTokens / 2), ask.maxTokens);
  const chunks: string[] = [];
  for (let left = tokens; left > 0; left -= profile.tokensPerChunk) {
    const words = Math.min(left, profile.tokensPerChunk);
    chunks.push(Array.from({ length: words }, () => ` ${WORDS[intBetween(random, 0, WORDS.length - 1)]}`).join(''));
  }
  return { chunks, tokens };
}
