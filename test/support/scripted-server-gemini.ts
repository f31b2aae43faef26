/**
 * The Gemini protocol of the scripted server: `POST .../models/{model}:streamGenerateContent?alt=sse`
 * and `:generateContent`, under the Gemini API prefixes (/v1beta/, /v1/, /v1alpha/) and the
 * Vertex ones (/v1/projects/{p}/locations/{l}/publishers/google/models/{m}, /v1beta1/publishers/...).
 *
 * A stream is data-only SSE framed with "\r\n\r\n" as the real API does: each event a whole
 * GenerateContentResponse, usageMetadata a cumulative snapshot on every chunk, finishReason on
 * the last, no [DONE]. Without `alt=sse` the API streams a JSON array instead. Shapes follow the
 * recorded streams in vercel/ai `packages/google/src/__fixtures__` and `@google/genai` 3.x.
 * No I/O here: planners return a `StreamPlan` or a `JsonReply`.
 */
import { DEFAULT_CHUNKS, DEFAULT_INPUT_TOKENS, cutOf, disconnectAt, lower, outputTimes, randomId } from './scripted-server-sse.ts';
import type { JsonReply, PlannedEvent, StreamPlan } from './scripted-server-sse.ts';
import type { JsonScript, RecordedRequest, StreamTiming } from './scripted-server-types.ts';

export const DEFAULT_GEMINI_MODEL = 'gemini-2.5-flash';

/** `usageMetadata` as the wire carries it; unknown fields pass through. */
export interface GeminiUsageMetadata {
  promptTokenCount?: number;
  /** the answer only: thoughts are NOT in it */
  candidatesTokenCount?: number;
  thoughtsTokenCount?: number;
  /** a SUBSET of promptTokenCount */
  cachedContentTokenCount?: number;
  toolUsePromptTokenCount?: number;
  /** default prompt + toolUsePrompt + candidates + thoughts */
  totalTokenCount?: number;
  [field: string]: unknown;
}

export interface GeminiStreamScript extends StreamTiming {
  kind: 'gemini-stream';
  /** `modelVersion` of every chunk; default the model of the request path */
  modelVersion?: string;
  /** text parts, one chunk (and one output chunk) each; default ['Hel','lo',' wor','ld'] */
  chunks?: string[];
  /** thought-summary parts `{text, thought: true}`, one chunk each, before the text (output chunks too) */
  thoughts?: string[];
  /** functionCall parts, one chunk each after the text, args whole (not streamed); output chunks */
  functionCalls?: Array<{ name: string; args?: Record<string, unknown>; thoughtSignature?: string }>;
  /**
   * the final usage snapshot, merged over {promptTokenCount: 12, candidatesTokenCount: number of text and
   * functionCall chunks, thoughtsTokenCount: number of thought chunks}; earlier chunks carry candidates and
   * thoughts grown in proportion, the other counts as final; totalTokenCount is computed unless given
   */
  usage?: GeminiUsageMetadata;
  /** 'every' chunk carries a usageMetadata snapshot (default, as the API does) or only the 'last' */
  usageOn?: 'every' | 'last';
  /** default 'STOP' (also for function calls, as Gemini does) */
  finishReason?: string;
  /** 'separate' (default): a last chunk with parts [{text:''}] carries finishReason, as Gemini 3 does; 'last-output': on the last output chunk */
  finishChunk?: 'separate' | 'last-output';
  /** default 'crlf' ("\r\n\r\n" after each event) when the query has alt=sse, else 'json-array' (the API's `[{..}\r\n,\r\n{..}]`) */
  framing?: 'crlf' | 'lf' | 'json-array';
  /** after this many output chunks, send a chunk {"error":{code, message, status}} (default 503 UNAVAILABLE) and end */
  errorAfter?: { chunks: number; code?: number; message?: string; status?: string };
  /** the prompt is blocked: one chunk with promptFeedback.blockReason, usage and no candidates, then the end */
  blockReason?: string;
}

/** Model and method of a Gemini or Vertex path, e.g. '/v1beta/models/gemini-2.5-flash:streamGenerateContent'. */
export interface GeminiTarget {
  model: string;
  /** 'generateContent' | 'streamGenerateContent' | 'countTokens' | ... */
  method: string;
  /** the first path segment: 'v1beta', 'v1', 'v1beta1', ... */
  apiVersion: string | undefined;
  /** a Vertex publisher path (`.../publishers/google/models/...`) */
  vertex: boolean;
}
export function geminiTarget(path: string): GeminiTarget | undefined {
  const m = /\/(?:models|tunedModels|endpoints)\/([^/:]+):([A-Za-z]+)$/.exec(path);
  if (!m) return undefined;
  return {
    model: decodeURIComponent(m[1]!),
    method: m[2]!,
    apiVersion: /^\/(v\d[^/]*)\//.exec(path)?.[1],
    vertex: path.includes('/publishers/google/'),
  };
}

const STATUS_NAMES: Record<number, [string, string]> = {
  400: ['INVALID_ARGUMENT', 'Request contains an invalid argument (scripted).'],
  401: ['UNAUTHENTICATED', 'API key not valid (scripted).'],
  403: ['PERMISSION_DENIED', 'The caller does not have permission (scripted).'],
  404: ['NOT_FOUND', 'models/x is not found (scripted).'],
  429: ['RESOURCE_EXHAUSTED', 'You exceeded your current quota (scripted).'],
  500: ['INTERNAL', 'An internal error has occurred (scripted).'],
  503: ['UNAVAILABLE', 'The model is overloaded. Please try again later (scripted).'],
  504: ['DEADLINE_EXCEEDED', 'Deadline expired before operation could complete (scripted).'],
};
/** Google's error body `{error:{code, message, status}}` for an HTTP status. */
export function googleErrorBody(code: number, message?: string, status?: string) {
  const [dStatus, dMessage] = STATUS_NAMES[code] ?? (code >= 500 ? STATUS_NAMES[500]! : STATUS_NAMES[400]!);
  return { error: { code, message: message ?? dMessage, status: status ?? dStatus } };
}

function geminiHeaders(extra: Record<string, string> | undefined, contentType: string): Record<string, string> {
  return { 'content-type': contentType, vary: 'Origin, X-Origin, Referer', 'x-request-id': randomId(''), ...lower(extra) };
}

/** A snapshot with zero optional counts left out, as the API's proto3 JSON does. */
function snapshot(u: GeminiUsageMetadata, candidates: number, thoughts: number, total?: number) {
  const { promptTokenCount, candidatesTokenCount: _c, thoughtsTokenCount: _t, totalTokenCount: _total, ...rest } = u;
  const prompt = promptTokenCount ?? DEFAULT_INPUT_TOKENS;
  const nonZero = (key: string, n: number | undefined) => (n ? { [key]: n } : {});
  return {
    promptTokenCount: prompt,
    ...nonZero('candidatesTokenCount', candidates),
    totalTokenCount: total ?? prompt + (u.toolUsePromptTokenCount ?? 0) + candidates + thoughts,
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: prompt }],
    ...nonZero('thoughtsTokenCount', thoughts),
    ...rest,
  };
}

export function planGeminiStream(script: GeminiStreamScript, req: RecordedRequest): StreamPlan {
  const headersMs = script.headersMs ?? 0;
  const sse = new URLSearchParams(req.query).get('alt') === 'sse';
  const framing = script.framing ?? (sse ? 'crlf' : 'json-array');
  let written = 0;
  const frame = (data: unknown): string => {
    const json = JSON.stringify(data);
    if (framing === 'json-array') return `${written++ === 0 ? '[' : ',\r\n'}${json}`;
    return `data: ${json}${framing === 'crlf' ? '\r\n\r\n' : '\n\n'}`;
  };
  const base = {
    status: 200,
    headers: geminiHeaders(script.headers, framing === 'json-array' ? 'application/json; charset=UTF-8' : 'text/event-stream'),
    headersMs,
    batch: script.batch ?? 1,
  };
  const close = (events: PlannedEvent[], atMs: number) => {
    if (framing === 'json-array') events.push({ atMs, output: false, data: written === 0 ? '[]' : '\r\n]' });
  };
  const modelVersion = script.modelVersion ?? geminiTarget(req.path)?.model ?? DEFAULT_GEMINI_MODEL;
  const responseId = randomId('').slice(0, 22);
  const tail = { modelVersion, responseId };
  const events: PlannedEvent[] = [];

  if (script.blockReason !== undefined) {
    const at = Math.max(headersMs, script.ttftMs ?? 0);
    const usage = snapshot(script.usage ?? {}, 0, 0);
    events.push({ atMs: at, output: false, data: frame({ promptFeedback: { blockReason: script.blockReason }, usageMetadata: usage, ...tail }) });
    close(events, at);
    return { ...base, events, end: 'end' };
  }

  const thoughts = script.thoughts ?? [];
  const texts = script.chunks ?? [...DEFAULT_CHUNKS];
  const calls = script.functionCalls ?? [];
  const parts: Array<Record<string, unknown>> = [
    ...thoughts.map((text) => ({ text, thought: true })),
    ...texts.map((text) => ({ text })),
    ...calls.map((c) => ({ functionCall: { name: c.name, args: c.args ?? {} }, ...(c.thoughtSignature ? { thoughtSignature: c.thoughtSignature } : {}) })),
  ];
  const answers = texts.length + calls.length;
  const final: GeminiUsageMetadata = { candidatesTokenCount: answers, thoughtsTokenCount: thoughts.length, ...script.usage };
  const finalCandidates = final.candidatesTokenCount ?? 0;
  const finalThoughts = final.thoughtsTokenCount ?? 0;
  const grown = (finalCount: number, done: number, of: number) => (of === 0 ? finalCount : Math.round((finalCount * done) / of));
  const usageAfter = (outputs: number, last: boolean) => {
    if (!last && script.usageOn === 'last') return {};
    const t = Math.min(outputs, thoughts.length);
    const a = outputs - t;
    const total = last ? script.usage?.totalTokenCount : undefined;
    return { usageMetadata: snapshot(final, grown(finalCandidates, a, answers), grown(finalThoughts, t, thoughts.length), total) };
  };
  const finishReason = script.finishReason ?? 'STOP';
  const separate = script.finishChunk !== 'last-output' || parts.length === 0;
  const chunk = (p: Array<Record<string, unknown>>, outputs: number, last: boolean) => ({
    candidates: [{ content: { parts: p, role: 'model' }, ...(last ? { finishReason } : {}), index: 0 }],
    ...usageAfter(outputs, last),
    ...tail,
  });

  const times = outputTimes(script, parts.length);
  const cut = cutOf(script);
  const sent = cut ? Math.min(cut.after, parts.length) : parts.length;
  for (let i = 0; i < sent; i++) {
    const last = !cut && !separate && i === parts.length - 1;
    events.push({ atMs: times[i]!, output: true, data: frame(chunk([parts[i]!], i + 1, last)) });
  }
  const lastAt = sent > 0 ? times[sent - 1]! : cut ? headersMs : Math.max(headersMs, script.ttftMs ?? 0);

  if (cut) {
    if (cut.how === 'error') {
      const e = script.errorAfter!;
      events.push({ atMs: lastAt, output: false, data: frame(googleErrorBody(e.code ?? 503, e.message, e.status)) });
      close(events, lastAt);
    }
    const endMs = cut.how === 'destroy' ? disconnectAt(script, sent, parts.length, lastAt) : undefined;
    return { ...base, events, end: cut.how === 'error' ? 'end' : cut.how, endMs };
  }
  if (separate) events.push({ atMs: lastAt, output: false, data: frame(chunk([{ text: '' }], parts.length, true)) });
  close(events, lastAt);
  return { ...base, events, end: 'end' };
}

/** The JSON reply of a `json` script on a Gemini path: a GenerateContentResponse, or Google's error shape. */
export function geminiJsonReply(script: JsonScript, req: RecordedRequest): JsonReply {
  const status = script.status ?? 200;
  const headers = geminiHeaders(script.headers, 'application/json; charset=UTF-8');
  if (script.body !== undefined) {
    return { status, headers, body: typeof script.body === 'string' ? script.body : JSON.stringify(script.body) };
  }
  if (status >= 400) return { status, headers, body: JSON.stringify(googleErrorBody(status)) };
  const u = script.usage ?? { input: DEFAULT_INPUT_TOKENS, output: DEFAULT_CHUNKS.length };
  const usage: GeminiUsageMetadata = {
    promptTokenCount: u.input,
    candidatesTokenCount: u.output,
    ...(u.cachedInput ? { cachedContentTokenCount: u.cachedInput } : {}),
    ...script.providerUsage,
  };
  const body = {
    candidates: [{ content: { parts: [{ text: script.content ?? DEFAULT_CHUNKS.join('') }], role: 'model' }, finishReason: 'STOP', index: 0 }],
    usageMetadata: snapshot(usage, usage.candidatesTokenCount ?? 0, usage.thoughtsTokenCount ?? 0, usage.totalTokenCount),
    modelVersion: script.model ?? geminiTarget(req.path)?.model ?? DEFAULT_GEMINI_MODEL,
    responseId: randomId('').slice(0, 22),
  };
  return { status, headers, body: JSON.stringify(body) };
}
