import { estimateTokens } from '../request/estimate.js';
import { OPERATION_GENERATE_CONTENT } from '../semconv.js';
import { createBlockParser } from '../stream/sse-events.js';
import { type Usage, tokenCount } from '../usage.js';
import { findObject, findString, member, parseJson } from './json-lookup.js';
import type { EventReader, JsonObject, Protocol, ProtocolRequest, ResponseSink } from './protocol.js';

/*
 * Google Gemini `generateContent` and `streamGenerateContent?alt=sse`, on the Gemini API
 * (`/v1beta/models/{model}:…`) and Vertex AI (`…/publishers/google/models/{model}:…`). The model is
 * in the URL (the API key in its query is never read). A stream is `data:` events, each a whole
 * GenerateContentResponse with a cumulative `usageMetadata`; it has no terminal event: a
 * `finishReason` says the answer is complete. An error inside a 200 stream is a chunk
 * `{"error": {code, status, message}}`.
 */

const ROUTE = /\/models\/([^/:]+):(stream)?[Gg]enerateContent$/;
const PROMPT_KEYS = ['contents', 'systemInstruction'] as const;

function recognise(url: URL, body: JsonObject | undefined): ProtocolRequest | undefined {
  const route = ROUTE.exec(url.pathname);
  if (route === null) return undefined;
  return {
    operation: OPERATION_GENERATE_CONTENT,
    model: decodeURIComponent(route[1]!),
    // Without `alt=sse` a stream is a JSON array, read whole at its end.
    stream: route[2] !== undefined && url.searchParams.get('alt') === 'sse',
    estimatedInputTokens: estimateTokens(body, PROMPT_KEYS),
    withUsageRequested: () => undefined,
    refusesUsageRequest: () => false,
  };
}

/**
 * Usage as the conventions count it: `promptTokenCount` already holds the cached tokens
 * (`cachedContentTokenCount`) and tool-use prompts are billed as input beside it; thinking
 * (`thoughtsTokenCount`) is billed output beside `candidatesTokenCount`.
 */
export function geminiUsage(raw: unknown): Usage | undefined {
  const prompt = tokenCount(member(raw, 'promptTokenCount'));
  const candidates = tokenCount(member(raw, 'candidatesTokenCount'));
  const thoughts = tokenCount(member(raw, 'thoughtsTokenCount')) ?? 0;
  if (prompt === undefined && candidates === undefined && thoughts === 0) return undefined;
  const toolUse = tokenCount(member(raw, 'toolUsePromptTokenCount')) ?? 0;
  return {
    input: prompt === undefined ? undefined : prompt + toolUse,
    cacheRead: tokenCount(member(raw, 'cachedContentTokenCount')) ?? 0,
    cacheWrite: 0,
    output: (candidates ?? 0) + thoughts,
    reasoning: thoughts,
    estimated: false,
  };
}

/** Whether a candidate's content has a part with generated output (text, thought, a call, code, media). */
function carriesOutput(response: unknown): boolean {
  const candidates = member(response, 'candidates');
  if (!Array.isArray(candidates)) return false;
  for (const candidate of candidates) {
    const parts = member(member(candidate, 'content'), 'parts');
    if (!Array.isArray(parts)) continue;
    for (const part of parts) {
      const text = member(part, 'text');
      if (typeof text === 'string' ? text !== '' : member(part, 'functionCall') !== undefined || member(part, 'inlineData') !== undefined || member(part, 'executableCode') !== undefined) return true;
    }
  }
  return false;
}

function finished(response: unknown): boolean {
  const candidates = member(response, 'candidates');
  return (Array.isArray(candidates) && candidates.some((c) => typeof member(c, 'finishReason') === 'string')) || member(member(response, 'promptFeedback'), 'blockReason') !== undefined;
}

/** Reads one response object (a stream chunk, or a whole non-streamed response). */
function readResponse(response: unknown, sink: ResponseSink, streamed: boolean): void {
  const error = member(response, 'error');
  if (error !== undefined && error !== null) {
    const status = member(error, 'status');
    const code = member(error, 'code');
    sink.error(typeof status === 'string' ? status : typeof code === 'number' ? String(code) : undefined);
    return;
  }
  const model = member(response, 'modelVersion');
  if (typeof model === 'string') sink.model(model);
  const usage = geminiUsage(member(response, 'usageMetadata'));
  if (usage !== undefined) sink.usage(usage);
  if (streamed && carriesOutput(response)) sink.output();
  if (streamed && finished(response)) sink.complete();
}

function events(sink: ResponseSink): EventReader {
  const parse = createBlockParser();
  let sawOutput = false;
  /** The last chunk the hot path took without parsing it, for its (cumulative) usage. */
  let unread: string | undefined;

  const readSlowly = (block: string): void => {
    unread = undefined;
    for (const event of parse(block)) {
      const response = parseJson(event.data);
      readResponse(response, sink, true);
      sawOutput ||= carriesOutput(response);
    }
  };

  return {
    read(block) {
      // Hot path: after the first output, an ordinary content chunk (no finishReason, no error, no
      // blocked prompt) is output if it has text or a call, by substring, with no parse and no
      // allocation; its usage, cumulative, is read from the last such chunk only when needed.
      // (A CRLF cut between two reads leaves its LF at the head of the next block.)
      if (sawOutput && block.startsWith('data:', block.charCodeAt(0) === 10 ? 1 : 0) && isPlainChunk(block)) {
        if (hasOutputPart(block)) sink.output();
        unread = block;
        return block;
      }
      readSlowly(block);
      return block;
    },
    end() {
      // A stream cut before its last chunk: the usage so far is in the last chunk read.
      if (unread !== undefined) {
        const usage = geminiUsage(member(parseJson(unread.slice(unread.indexOf(':') + 1)), 'usageMetadata'));
        if (usage !== undefined) sink.usage(usage);
      }
    },
  };
}

/** A data-only chunk that is neither the last (finishReason), an error, nor a blocked prompt. */
function isPlainChunk(block: string): boolean {
  return block.indexOf('"finishReason"') === -1 && block.indexOf('"error"') === -1 && block.indexOf('"promptFeedback"') === -1 && block.indexOf('\ndata', 5) === -1;
}

/** Whether a chunk has a part with text (not empty), a function call, code or media. */
function hasOutputPart(block: string): boolean {
  for (let at = block.indexOf('"text":'); at !== -1; at = block.indexOf('"text":', at + 7)) {
    let i = at + 7;
    while (block.charCodeAt(i) === 32) i++;
    if (block.charCodeAt(i) === 34 /* " */ && block.charCodeAt(i + 1) !== 34) return true;
  }
  return block.indexOf('"functionCall"') !== -1 || block.indexOf('"inlineData"') !== -1 || block.indexOf('"executableCode"') !== -1;
}

function json(body: unknown, sink: ResponseSink): void {
  // A stream without `alt=sse` is a JSON array of responses.
  for (const response of Array.isArray(body) ? body : [body]) readResponse(response, sink, false);
}

function largeJson(head: string, tail: string, sink: ResponseSink): void {
  const model = findString(tail, 'modelVersion') ?? findString(head, 'modelVersion');
  if (model !== undefined) sink.model(model);
  const usage = geminiUsage(findObject(tail, 'usageMetadata'));
  if (usage !== undefined) sink.usage(usage);
}

/** Google Gemini on the Gemini API and Vertex AI, through any client that takes a fetch. */
export const gemini: Protocol = {
  name: 'gcp.gemini',
  provider: 'gcp.gemini',
  recognise,
  events,
  cutMarker: undefined,
  json,
  largeJson,
};
