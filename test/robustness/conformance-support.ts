/**
 * The subjects of the conformance suites (conformance.property.test.ts, conformance.test.ts): each
 * way an app streams from a provider through inferometer, as a bare client and a metered one
 * against the same loopback byte server; the provider's recorded-shape fixtures with the record
 * each should make; and what an app sees of a stream, made comparable between two runs.
 */
import { readdirSync } from 'node:fs';
import { createGoogleGenerativeAI } from '@ai-sdk/google';
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import type { MeterProvider } from '@opentelemetry/sdk-metrics';
import { streamText } from 'ai';
import type OpenAI from 'openai';
import { instrument, meteredFetch } from '../../src/index.js';
import { fixtureText, isOutputEvent, sseEvents } from '../support/fixtures.ts';
import { type AppView, appView, quietClient } from './support.ts';

// ---------------------------------------------------------------------------------------------
// Subjects
// ---------------------------------------------------------------------------------------------

export type WireProtocol = 'openai' | 'anthropic' | 'gemini';

/** One streamed request as an app makes it, and what the app then iterates. */
export type Open = (signal?: AbortSignal, prompt?: string) => Promise<AsyncIterable<unknown>>;

export interface Subject {
  readonly name: string;
  readonly protocol: WireProtocol;
  /** `instrument()` links an SDK's retries into one record; `meteredFetch()` records every HTTP attempt. */
  readonly via: 'instrument' | 'meteredFetch';
  /**
   * What the SDK does with the response when the app breaks out of its loop: `cancels` it (the
   * request ends there), `releases` it unread (@google/genai's generator releases its reader and
   * nothing more: only garbage collection ends it), or `reads` on (the AI SDK's streamText pipes
   * the response on whatever the app does with fullStream).
   */
  readonly onBreak: 'cancels' | 'releases' | 'reads';
  /**
   * What the SDK does with a stream the app never iterates: leaves it `unread`, or `reads` it to
   * the end itself (@anthropic-ai/sdk's messages.stream() helper accumulates the message anyway;
   * the AI SDK's streamText pipes the response whatever the app does), its read pending on the
   * socket, so that the body stays in flight as the bare one does.
   */
  readonly onDrop: 'unread' | 'reads';
  /**
   * A client against the byte server at `origin`: bare without a meter provider, metered with one.
   * `retries`: the SDK's own retries (default none). meteredFetch() links retries made above it
   * only where the app lets the SDK retry (`linkRetries`, as its documentation advises), so that
   * a failure is recorded at once where nothing retries.
   */
  open(origin: string, meterProvider: MeterProvider | undefined, retries?: number): Open;
}

const silent = () => {};
const anthropicAsk = (prompt: string) => ({ model: 'claude-sonnet-5', max_tokens: 64, messages: [{ role: 'user' as const, content: prompt }] });

const openaiChat: Subject = {
  name: 'OpenAI chat via instrument(openai)',
  protocol: 'openai',
  via: 'instrument',
  onBreak: 'cancels',
  onDrop: 'unread',
  open(origin, meterProvider, retries = 0) {
    const bare = quietClient(`${origin}/v1`, { maxRetries: retries });
    const client: OpenAI = meterProvider === undefined ? bare : instrument(bare, { meterProvider });
    return async (signal, prompt = 'hi') => client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: prompt }], stream: true }, { signal });
  },
};

const anthropicCreate: Subject = {
  name: 'Anthropic messages.create({stream: true}) via instrument(new Anthropic())',
  protocol: 'anthropic',
  via: 'instrument',
  onBreak: 'cancels',
  onDrop: 'unread',
  open(origin, meterProvider, retries = 0) {
    const bare = new Anthropic({ baseURL: origin, apiKey: 'test-key', maxRetries: retries, logLevel: 'off' });
    const client = meterProvider === undefined ? bare : instrument(bare, { meterProvider });
    return async (signal, prompt = 'hi') => client.messages.create({ ...anthropicAsk(prompt), stream: true }, { signal });
  },
};

const anthropicHelper: Subject = {
  name: 'Anthropic messages.stream() helper via instrument(new Anthropic())',
  protocol: 'anthropic',
  via: 'instrument',
  onBreak: 'cancels',
  onDrop: 'reads',
  open(origin, meterProvider, retries = 0) {
    const bare = new Anthropic({ baseURL: origin, apiKey: 'test-key', maxRetries: retries, logLevel: 'off' });
    const client = meterProvider === undefined ? bare : instrument(bare, { meterProvider });
    return async (signal, prompt = 'hi') => {
      const stream = client.messages.stream(anthropicAsk(prompt), { signal });
      // An app that never iterates still handles errors (else the helper raises an unhandled rejection).
      stream.on('error', silent);
      return withFinalMessage(stream);
    };
  },
};

/**
 * The helper's events as the app iterates them, then the message it accumulated. An app that
 * comes to the helper after it has ended asks it for the message only: its iterator would wait
 * forever (the events went out before it listened), with or without inferometer.
 */
async function* withFinalMessage(stream: ReturnType<Anthropic['messages']['stream']>): AsyncGenerator<unknown> {
  if (!stream.ended) for await (const event of stream) yield event;
  yield { finalMessage: await stream.finalMessage() };
}

const genai: Subject = {
  name: 'Gemini generateContentStream via @google/genai with meteredFetch()',
  protocol: 'gemini',
  via: 'meteredFetch',
  onBreak: 'releases',
  onDrop: 'unread',
  open(origin, meterProvider, retries = 0) {
    const client = new GoogleGenAI({
      apiKey: 'test-key',
      httpOptions: {
        baseUrl: origin,
        ...(meterProvider === undefined ? {} : { fetch: meteredFetch({ meterProvider, linkRetries: retries > 0 }) }),
        ...(retries > 0 ? { retryOptions: { attempts: retries + 1, initialDelay: 0.01, maxDelay: 0.02, jitter: 0 } } : {}),
      },
    });
    return async (signal, prompt = 'hi') => client.models.generateContentStream({ model: 'gemini-2.5-flash', contents: prompt, config: { abortSignal: signal } });
  },
};

const aiSdkGoogle: Subject = {
  name: 'Gemini streamText via @ai-sdk/google with meteredFetch()',
  protocol: 'gemini',
  via: 'meteredFetch',
  onBreak: 'reads',
  onDrop: 'reads',
  open(origin, meterProvider, retries = 0) {
    const fetch = meterProvider === undefined ? undefined : meteredFetch({ meterProvider, linkRetries: retries > 0 });
    return async (signal, prompt = 'hi') => {
      // Ids the SDK would draw at random (tool calls, a response without its own id), numbered per request instead
      let n = 0;
      const generateId = () => `id-${n++}`;
      const model = createGoogleGenerativeAI({ baseURL: `${origin}/v1beta`, apiKey: 'test-key', generateId, ...(fetch === undefined ? {} : { fetch }) })('gemini-2.5-flash');
      return streamText({ model, prompt, maxRetries: retries, abortSignal: signal, onError: silent, _internal: { generateId } }).fullStream;
    };
  },
};

export const SUBJECTS: readonly Subject[] = [openaiChat, anthropicCreate, anthropicHelper, genai, aiSdkGoogle];

// ---------------------------------------------------------------------------------------------
// What the app sees
// ---------------------------------------------------------------------------------------------

/**
 * What the app sees of one request (see `appView`), with what differs between two runs of the
 * same bare SDK taken out: dates and the `date` header (the SDKs hand the response headers on),
 * the AI SDK's measured `performance`, and error stacks. Class names are kept (`__class`), so a
 * plain object in place of the SDK's class is a difference.
 */
export async function view(open: Open, hangMs = 2000): Promise<AppView> {
  const seen = await appView(open, hangMs);
  return { items: seen.items.map((item) => comparable(item)), error: seen.error === undefined ? undefined : (comparable(seen.error) as AppView['error']) };
}

export function comparable(value: unknown, depth = 0, key = ''): unknown {
  if (depth > 12 || value === null || typeof value !== 'object') return typeof value === 'function' ? '<function>' : value;
  if (value instanceof Date) return '<date>';
  if (Array.isArray(value)) return value.map((v) => comparable(v, depth + 1));
  if (value instanceof Headers) return comparable(Object.fromEntries(value), depth + 1, key);
  const out: Record<string, unknown> = {};
  const cls = (value as { constructor?: { name?: string } }).constructor?.name;
  if (cls !== undefined && cls !== 'Object') out['__class'] = cls;
  if (value instanceof Error) {
    out['message'] = value.message;
    if (value.cause !== undefined) out['cause'] = comparable(value.cause, depth + 1);
  }
  for (const [k, v] of Object.entries(value)) {
    if (k === 'stack' || (k === 'date' && /headers/i.test(key)) || (k === 'performance' && key === '')) continue;
    out[k] = comparable(v, depth + 1, k);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

export interface Fixture {
  /** `anthropic/text.sse`, … */
  readonly name: string;
  /** The body the provider sends; `usageAsked`: the request asked for stream usage (OpenAI sends it only then). */
  body(usageAsked: boolean): string;
  /** The record of the whole body: `success`, or `error:<error.type>` for a provider's in-stream error. */
  readonly outcome: string;
  /** The billed usage of a success: input with cache reads and writes, output with reasoning (OpenAI: only when asked). */
  readonly usage: { input: number; output: number } | undefined;
  /** Events that carry generated output (text, reasoning, tool input, a function call). */
  readonly outputChunks: number;
  /** OpenAI's two renderings differ in length: its bodies are cut short between events only. */
  readonly cutBetweenEvents: boolean;
}

/** The event that ends a stream, one way or the other: after it the record's outcome is known. */
const TERMINAL: Record<WireProtocol, RegExp> = {
  openai: /"finish_reason":"|"error":/,
  anthropic: /^event: (message_stop|error)\r?\n/,
  gemini: /"finishReason"|"blockReason"|"error":/,
};

/** What each recorded fixture should be recorded as (README of test/fixtures, and the conventions' token rules). */
const RECORDED: Record<string, Pick<Fixture, 'outcome' | 'usage'>> = {
  // input = input_tokens + cache_read + cache_creation
  'anthropic/text.sse': { outcome: 'success', usage: { input: 12 + 2048, output: 12 } },
  'anthropic/thinking-then-text.sse': { outcome: 'success', usage: { input: 47, output: 96 } },
  'anthropic/tool-use.sse': { outcome: 'success', usage: { input: 472, output: 89 } },
  // the last message_delta's input replaces the start's
  'anthropic/web-search-message-deltas.sse': { outcome: 'success', usage: { input: 15665, output: 795 } },
  'anthropic/overloaded-error.sse': { outcome: 'error:overloaded_error', usage: undefined },
  // the compaction round is billed beside the top-level counts
  'anthropic/compaction-iterations.sse': { outcome: 'success', usage: { input: 60385 + 612, output: 522 + 2819 } },
  'anthropic/ping-first.sse': { outcome: 'success', usage: { input: 61, output: 5 } },
  // output = candidates + thoughts; input = prompt (cache included) + tool-use prompt
  'gemini/text.sse': { outcome: 'success', usage: { input: 8, output: 15 } },
  'gemini/lf-framed.sse': { outcome: 'success', usage: { input: 8, output: 15 } },
  'gemini/thoughts.sse': { outcome: 'success', usage: { input: 9, output: 13 + 302 } },
  'gemini/function-call.sse': { outcome: 'success', usage: { input: 29, output: 15 + 45 } },
  'gemini/usage-only-on-last.sse': { outcome: 'success', usage: { input: 12 + 65, output: 71 + 89 } },
  'gemini/prompt-blocked.sse': { outcome: 'success', usage: { input: 9, output: 0 } },
  'gemini/mid-stream-error.sse': { outcome: 'error:UNAVAILABLE', usage: undefined },
};

function recordedFixtures(dir: 'anthropic' | 'gemini'): Fixture[] {
  return readdirSync(new URL(`../fixtures/${dir}/`, import.meta.url))
    .filter((f) => f.endsWith('.sse'))
    .sort()
    .map((f) => {
      const name = `${dir}/${f}`;
      const expected = RECORDED[name];
      if (expected === undefined) throw new Error(`${name}: say in conformance-support.ts what its record should be`);
      const text = fixtureText(name);
      return { name, body: () => text, ...expected, outputChunks: sseEvents(text).filter(isOutputEvent).length, cutBetweenEvents: false };
    });
}

// --- OpenAI chat: generated in the shape OpenAI streams (`"usage":null` on every chunk and a usage-only chunk when asked) ---

const CHAT_BASE = '"id":"chatcmpl-conformance","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_x"';
const chatChunk = (delta: object, finish: string | null) =>
  `{${CHAT_BASE},"choices":[{"index":0,"delta":${JSON.stringify(delta)},"logprobs":null,"finish_reason":${finish === null ? 'null' : `"${finish}"`}}]`;

function openaiFixture(name: string, deltas: object[], end: { finish: string; usage: { prompt: number; cached: number; completion: number; reasoning: number } } | { error: object }, outputChunks: number): Fixture {
  const body = (asked: boolean): string => {
    const tail = asked ? ',"usage":null}' : '}';
    const events = deltas.map((d) => `data: ${chatChunk(d, null)}${tail}\n\n`);
    if ('error' in end) return events.join('') + `data: ${JSON.stringify({ error: end.error })}\n\n`;
    events.push(`data: ${chatChunk({}, end.finish)}${tail}\n\n`);
    const u = end.usage;
    if (asked) {
      const usage = { prompt_tokens: u.prompt, completion_tokens: u.completion, total_tokens: u.prompt + u.completion, prompt_tokens_details: { cached_tokens: u.cached, audio_tokens: 0 }, completion_tokens_details: { reasoning_tokens: u.reasoning, audio_tokens: 0 } };
      events.push(`data: {${CHAT_BASE},"choices":[],"usage":${JSON.stringify(usage)}}\n\n`);
    }
    return events.join('') + 'data: [DONE]\n\n';
  };
  return {
    name,
    body,
    outcome: 'error' in end ? `error:${(end.error as { code?: string; type: string }).code ?? (end.error as { type: string }).type}` : 'success',
    // prompt_tokens includes the cached ones; completion_tokens includes reasoning
    usage: 'error' in end ? undefined : { input: end.usage.prompt, output: end.usage.completion },
    outputChunks,
    cutBetweenEvents: true,
  };
}

const OPENAI_FIXTURES: Fixture[] = [
  openaiFixture('openai/text (generated)', [{ role: 'assistant', content: '', refusal: null }, { content: 'Hello' }, { content: '! How can' }, { content: ' I help you today? 😀 é' }], { finish: 'stop', usage: { prompt: 2060, cached: 2048, completion: 12, reasoning: 0 } }, 3),
  openaiFixture(
    'openai/tool-call (generated)',
    [
      { role: 'assistant', content: null, refusal: null, tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '' } }] },
      { tool_calls: [{ index: 0, function: { arguments: '{"location":' } }] },
      { tool_calls: [{ index: 0, function: { arguments: ' "San Francisco, CA"}' } }] },
    ],
    { finish: 'tool_calls', usage: { prompt: 472, cached: 0, completion: 89, reasoning: 64 } },
    2,
  ),
  openaiFixture('openai/reasoning (generated)', [{ role: 'assistant', content: '' }, { reasoning_content: 'Think' }, { reasoning_content: 'ing.' }, { content: 'Done.' }], { finish: 'length', usage: { prompt: 9, cached: 0, completion: 315, reasoning: 302 } }, 3),
  openaiFixture('openai/server-error (generated)', [{ role: 'assistant', content: '' }, { content: 'Once upon' }, { content: ' a time' }], { error: { message: 'The server had an error while processing your request.', type: 'server_error', param: null, code: null } }, 2),
];

export const FIXTURES: Record<WireProtocol, readonly Fixture[]> = {
  openai: OPENAI_FIXTURES,
  anthropic: recordedFixtures('anthropic'),
  gemini: recordedFixtures('gemini'),
};

/** Whether an event of `protocol` carries generated output. */
export function carriesOutput(protocol: WireProtocol, event: string): boolean {
  return protocol === 'openai' ? /"(content|reasoning_content|arguments)":"[^"]/.test(event) : isOutputEvent(event);
}

/** A successful fixture of each protocol, for the fault tests. */
export const PLAIN: Record<WireProtocol, string> = { openai: 'openai/text (generated)', anthropic: 'anthropic/text.sse', gemini: 'gemini/text.sse' };
/** A fixture of each protocol that ends in the provider's in-stream error. */
export const IN_STREAM_ERROR: Record<WireProtocol, string> = { openai: 'openai/server-error (generated)', anthropic: 'anthropic/overloaded-error.sse', gemini: 'gemini/mid-stream-error.sse' };

export function fixtureNamed(protocol: WireProtocol, name: string): Fixture {
  const found = FIXTURES[protocol].find((f) => f.name === name);
  if (found === undefined) throw new Error(`no fixture ${name}`);
  return found;
}

/** Whether a request body asked for stream usage (inferometer asks on the app's behalf, by default). */
export function usageAsked(body: unknown): boolean {
  return (body as { stream_options?: { include_usage?: unknown } } | null)?.stream_options?.include_usage === true;
}

// ---------------------------------------------------------------------------------------------
// Bytes on the wire
// ---------------------------------------------------------------------------------------------

const encoder = new TextEncoder();

/** How a body goes over the network. */
export interface Wire {
  /** LF line ends written as CRLF (the SDKs accept both; Gemini's own fixtures are CRLF already) */
  crlf: boolean;
  /** where to cut the bytes into writes: at these fractions of their length, at every byte, or inside every CRLF (plus the fractions) */
  split: 'fractions' | 'every-byte' | 'inside-crlf';
  fractions: number[];
  /** cut short before its terminal event is whole (a fraction of the way to it), or undefined for the whole body */
  shortAt: number | undefined;
  /** after the last write: end the response, or drop the connection (no terminating chunk) */
  end: 'end' | 'destroy';
}

/** The body of `fixture` as `wire` sends it, cut into writes; `short`: whether it was cut short. */
export function writesOf(fixture: Fixture, protocol: WireProtocol, asked: boolean, wire: Wire): { writes: Uint8Array[]; short: boolean } {
  let text = fixture.body(asked);
  if (wire.crlf) text = text.replace(/\r?\n/g, '\r\n');
  let bytes = encoder.encode(text);
  const short = wire.shortAt !== undefined;
  if (wire.shortAt !== undefined) {
    const events = sseEvents(text);
    const terminal = events.findIndex((e) => TERMINAL[protocol].test(e));
    if (terminal === -1) throw new Error(`${fixture.name}: no terminal event`);
    if (fixture.cutBetweenEvents) {
      // keep the first k events, the terminal one never
      bytes = encoder.encode(events.slice(0, Math.floor(wire.shortAt * (terminal + 1))).join(''));
    } else {
      // any byte before the last of the terminal event's JSON (also inside a UTF-8 character)
      const before = events.slice(0, terminal).join('');
      const end = encoder.encode(before + events[terminal]!.slice(0, events[terminal]!.lastIndexOf('}') + 1)).length;
      bytes = bytes.subarray(0, Math.floor(wire.shortAt * end));
    }
  }
  return { writes: cut(bytes, wire), short };
}

function cut(bytes: Uint8Array, wire: Wire): Uint8Array[] {
  let at: number[];
  if (wire.split === 'every-byte') at = Array.from({ length: bytes.length }, (_, i) => i);
  else {
    at = wire.fractions.map((f) => Math.floor(f * bytes.length));
    if (wire.split === 'inside-crlf') for (let i = 1; i < bytes.length; i++) if (bytes[i - 1] === 13 && bytes[i] === 10) at.push(i);
  }
  const cuts = [...new Set(at)].filter((n) => n > 0 && n < bytes.length).sort((a, b) => a - b);
  const writes: Uint8Array[] = [];
  let from = 0;
  for (const c of [...cuts, bytes.length]) {
    if (c > from) writes.push(bytes.subarray(from, c));
    from = c;
  }
  return writes;
}
