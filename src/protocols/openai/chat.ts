import type { EventSourceMessage } from 'eventsource-parser';
import { OPERATION_CHAT, OPERATION_TEXT_COMPLETION } from '../../semconv.js';
import { bytePattern, bytesAre, bytesAt, lastIndexOfBytes } from '../../stream/bytes.js';
import { parseBlock } from '../../stream/sse-events.js';
import type { EventReader, JsonObject, Protocol, ProtocolRequest, ResponseSink } from '../protocol.js';
import { carriesOutput, finished } from './chat-output.js';
import { errorCodeOf, normalizeUsage } from './json-text.js';
import { openaiRequest, readJson, readLargeJson, routeIs } from './request.js';
import { type CutRange, USAGE_NULL, cutUsageNull, memberRange, memberRangeBytes, serialize, usageNullRange, valueAt, valueAtBytes } from './usage-member.js';

/*
 * OpenAI chat completions (`/chat/completions`) and legacy completions (`/completions`), as
 * OpenAI and every OpenAI-compatible server (vLLM, Ollama, LiteLLM, Groq, DeepSeek, Mistral, xAI,
 * Gemini's `/openai/` endpoint) speak them: `data:` events of JSON chunks, then `data: [DONE]`.
 */

const EMPTY_CHOICES = /"choices"\s*:\s*\[\s*\]/;
const FINISH = /"finish_reason"\s*:\s*"/;
const DONE = 'data: [DONE]\n\n';
const DONE_NO_SPACE = 'data:[DONE]\n\n';

/**
 * The hot path's words, in bytes (see ChatEvents.scan), each looked for by a byte that is rare in
 * a chunk's JSON (`h`, `g`, `_`) rather than by its quote, which every key and string has.
 */
const WORDS = {
  data: bytePattern('data:'),
  done: bytePattern(DONE),
  doneNoSpace: bytePattern(DONE_NO_SPACE),
  usage: bytePattern('"usage"', 4),
  null: bytePattern('null'),
  choices: bytePattern('"choices"', 2),
  finishReason: bytePattern('"finish_reason"', 7),
};
/** What ChatEvents.scan() found a block to be. */
const TEXT = 0;
const ORDINARY = 1;
const END = 2;

/** Refusals of `stream_options` by OpenAI-compatible servers: 400, or 422 from FastAPI/pydantic and axum. */
const REFUSAL_STATUSES = new Set([400, 422]);

function recognise(url: URL, body: JsonObject | undefined): ProtocolRequest | undefined {
  if (routeIs(url, '/chat/completions')) return chatRequest(OPERATION_CHAT, body);
  if (routeIs(url, '/completions')) return chatRequest(OPERATION_TEXT_COMPLETION, body);
  return undefined;
}

function chatRequest(operation: string, body: JsonObject | undefined): ProtocolRequest {
  const base = openaiRequest(operation, body);
  const options = body?.['stream_options'];
  const appSetStreamOptions = options !== undefined && options !== null;
  // A stream that did not ask for usage, and whose options can take the member.
  const canAsk =
    base.stream &&
    body !== undefined &&
    (!appSetStreamOptions || (typeof options === 'object' && (options as JsonObject)['include_usage'] === undefined));
  return {
    ...base,
    withUsageRequested: () => {
      if (!canAsk) return undefined;
      const merged = appSetStreamOptions ? { ...(options as JsonObject), include_usage: true } : { include_usage: true };
      return JSON.stringify({ ...body, stream_options: merged });
    },
    // The refusal names `include_usage`, or names `stream_options` when the app sent none (an
    // app's own invalid `stream_options` member is the app's error, not ours).
    refusesUsageRequest: (status, text) =>
      REFUSAL_STATUSES.has(status) && (text.includes('include_usage') || (!appSetStreamOptions && text.includes('stream_options'))),
  };
}

/**
 * Reads a chat or legacy completions stream. Chunks are interpreted (JSON-parsed) until the
 * first output; after it, an ordinary chunk of an LF-framed stream takes the hot path: a few
 * substring searches, no parse, no regular expression, no copy. When usage is hidden, the
 * usage-only chunk is left out and the `"usage":null` member of the others cut out in place.
 */
function events(sink: ResponseSink, hideUsage: boolean): EventReader {
  return new ChatEvents(sink, hideUsage);
}

/** The state of one chat stream in one object (its methods once on the prototype, not closures per stream). */
class ChatEvents implements EventReader {
  readonly #sink: ResponseSink;
  readonly #hideUsage: boolean;
  /** No block was parsed yet (a byte-order mark may open the first; see parseBlock). */
  #firstParse = true;
  #sawOutput = false;
  #complete = false;
  /** Whether the last two chunks gave a finish_reason, to judge a stream that ends without [DONE]. */
  #lastFinished = false;
  #previousFinished = false;
  /** What the app does not get of the block the last read() returned as it came (see EventReader). */
  cut: CutRange | undefined = undefined;
  readonly #range: CutRange = { start: 0, end: 0 };

  constructor(sink: ResponseSink, hideUsage: boolean) {
    this.#sink = sink;
    this.#hideUsage = hideUsage;
  }

  read(block: string, lfOnly: boolean): string {
    this.cut = undefined;
    return this.#sawOutput && lfOnly && block.startsWith('data:') ? this.#readChunk(block) : this.#readSlowly(block);
  }

  /**
   * The hot path ({@link #readChunk}) in bytes, for the SSE reader's reads of whole events: the
   * same searches, the same rules, the same range cut out, with no text made of the block.
   */
  scan(bytes: Uint8Array, start: number, end: number, cut: CutRange): number {
    if (!this.#sawOutput || !bytesAt(bytes, start, WORDS.data)) return TEXT;
    if (bytesAre(bytes, start, end, WORDS.done) || bytesAre(bytes, start, end, WORDS.doneNoSpace)) return END;
    const usageAt = lastIndexOfBytes(bytes, WORDS.usage, start, end);
    if (usageAt !== -1) {
      const value = valueAtBytes(bytes, usageAt + 7, end);
      if (value === -1 || !bytesAt(bytes, value, WORDS.null)) return TEXT;
      if (this.#hideUsage) {
        if (memberRangeBytes(bytes, usageAt, value + 4, cut) === undefined) return TEXT;
        cut.start -= start;
        cut.end -= start;
      }
    }
    // Only whether it is there, from the end as in text: past fewer `h`s than from the start (the
    // id and the object type hold three before it).
    if (lastIndexOfBytes(bytes, WORDS.choices, start, end) === -1) return TEXT;
    const finishAt = lastIndexOfBytes(bytes, WORDS.finishReason, start, end);
    const finishValue = finishAt === -1 ? -1 : valueAtBytes(bytes, finishAt + 15, end);
    if (finishValue !== -1 && bytes[finishValue] === 34) return TEXT;
    return ORDINARY;
  }

  readScanned(kind: number): void {
    if (kind === END) this.#done();
    else this.#ordinaryOutput();
  }

  end(): void {
    // A stream that ends without [DONE] is still complete if one of its last two chunks said
    // why it stopped (the usage chunk may follow the finish chunk).
    if (!this.#complete && (this.#lastFinished || this.#previousFinished)) this.#sink.complete();
  }

  #output(): void {
    this.#sawOutput = true;
    this.#sink.output();
  }

  /** `[DONE]`: the stream is complete. */
  #done(): void {
    this.#complete = true;
    this.#sink.complete();
  }

  /** An ordinary chunk on the hot path (in text or in bytes): output, and no finish_reason. */
  #ordinaryOutput(): void {
    this.#previousFinished = this.#lastFinished;
    this.#lastFinished = false;
    this.#sink.output();
  }

  /** A chunk's data, parsed. Returns false to leave the block out (the hidden usage chunk). */
  #inspect(data: string): boolean {
    const sink = this.#sink;
    if (data === '[DONE]') {
      this.#done();
      return true;
    }
    this.#previousFinished = this.#lastFinished;
    this.#lastFinished = FINISH.test(data);
    let chunk: Record<string, unknown>;
    try {
      chunk = JSON.parse(data) as Record<string, unknown>;
    } catch {
      return true; // malformed: the app's SDK decides what that means
    }
    if (typeof chunk !== 'object' || chunk === null) return true;
    const model = chunk['model'];
    // Azure's content-filter chunk carries `"model": ""`: the sink takes only a real name.
    if (typeof model === 'string') sink.model(model);
    if (chunk['error'] !== undefined && chunk['error'] !== null) {
      sink.error(errorCodeOf(chunk['error']));
      return true;
    }
    const usage = normalizeUsage(chunk['usage']);
    if (usage !== undefined) {
      sink.usage(usage);
      if (EMPTY_CHOICES.test(data)) return !this.#hideUsage; // the usage-only chunk: no output
    }
    // Before the first output a chunk must carry some; after it every chunk counts, parsed or
    // not (so the count does not depend on which path read it), but a finish chunk without output.
    const choices = Array.isArray(chunk['choices']) ? (chunk['choices'] as unknown[]) : [];
    if (choices.some(carriesOutput) || (this.#sawOutput && !choices.some(finished))) this.#output();
    return true;
  }

  /** The events in a block (eventsource-parser; a leading U+FEFF is a byte-order mark only in the stream's first). */
  #parse(text: string): EventSourceMessage[] {
    const first = this.#firstParse;
    this.#firstParse = false;
    return parseBlock(text, first);
  }

  /** Any block, interpreted by eventsource-parser. */
  #readSlowly(block: string): string {
    const hideUsage = this.#hideUsage;
    let keep = true;
    for (const event of this.#parse(block)) keep = this.#inspect(event.data) && keep;
    if (!hideUsage || !keep) return hideUsage ? '' : block;
    if (block.indexOf('"usage"') === -1) return block;
    const events = this.#parse(block);
    const event = events[0];
    if (events.length !== 1 || event === undefined) return block;
    const stripped = event.data.replace(USAGE_NULL, '');
    if (stripped === event.data) return block;
    // Cut the member out in place where the app's decoder then reads the same event (the text
    // around it stays as it came: a long event's head may already be with the app); a member on
    // its own line is reported as the range the app does not get, as on the hot path ...
    const range = usageNullRange(block, this.#range);
    const cut = range === undefined ? cutUsageNull(block) : block.slice(0, range.start) + block.slice(range.end);
    if (cut !== undefined) {
      const again = this.#parse(cut)[0];
      if (again !== undefined && again.data === stripped && again.event === event.event && again.id === event.id) {
        if (range === undefined) return cut;
        this.cut = range;
        return block;
      }
    }
    // ... else write the one event anew: the same event type, id and data; comments inside the
    // block are left out.
    return serialize(event, stripped);
  }

  /**
   * Hot path: an ordinary chunk after the first output, in an LF-framed stream: three substring
   * searches from the end (`"usage"`, where OpenAI puts it; `"choices"`, which only has to be
   * there, and lies nearer the end than the start; `"finish_reason"`). Anything unusual (a usage
   * object, an error event, a usage member it cannot cut out cleanly) goes the slow way.
   */
  #readChunk(block: string): string {
    // Exactly `[DONE]`, as the SDK takes it: `data: [DONE] ` (a trailing space) is not the end.
    if (block === DONE || block === DONE_NO_SPACE) {
      this.#done();
      return block;
    }
    let cut: CutRange | undefined;
    const usageAt = block.lastIndexOf('"usage"');
    if (usageAt !== -1) {
      const value = valueAt(block, usageAt + 7);
      if (value === -1 || !block.startsWith('null', value)) return this.#readSlowly(block);
      if (this.#hideUsage) {
        cut = memberRange(block, usageAt, value + 4, this.#range);
        if (cut === undefined) return this.#readSlowly(block);
      }
    }
    if (block.lastIndexOf('"choices"') === -1) return this.#readSlowly(block);
    const finishAt = block.lastIndexOf('"finish_reason"');
    const finishValue = finishAt === -1 ? -1 : valueAt(block, finishAt + 15);
    // The finish chunk (a string, not null) usually carries no output: parse it, once a stream.
    if (finishValue !== -1 && block.charCodeAt(finishValue) === 34) return this.#readSlowly(block);
    this.#ordinaryOutput();
    this.cut = cut;
    return block;
  }
}

/** A short chat stream with usage asked for (see Protocol.sampleReads): role, three outputs, finish, usage, [DONE]. */
const sampleEvent = (delta: string, finish = 'null'): string =>
  `data: {"id":"s","object":"chat.completion.chunk","created":0,"model":"m","choices":[{"index":0,"delta":${delta},"finish_reason":${finish}}],"usage":null}\n\n`;
const SAMPLE = [
  sampleEvent('{"role":"assistant","content":""}'),
  sampleEvent('{"content":"a"}'),
  sampleEvent('{"content":"b"}'),
  sampleEvent('{"content":"c"}'),
  sampleEvent('{}', '"stop"'),
  'data: {"id":"s","object":"chat.completion.chunk","created":0,"model":"m","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":3,"total_tokens":4}}\n\n',
  DONE,
];
/** Three reads: the first ends with an event, the second inside one (the byte path holds it), the third with the stream. */
const SAMPLE_READS = [SAMPLE[0]! + SAMPLE[1]!, SAMPLE[2]! + SAMPLE[3]!.slice(0, 40), SAMPLE[3]!.slice(40) + SAMPLE.slice(4).join('')];

/** OpenAI chat completions and legacy completions. */
export const openaiChat: Protocol = {
  name: 'openai.chat',
  provider: 'openai',
  recognise,
  events,
  cutMarker: '"usage"',
  sampleReads: SAMPLE_READS,
  json: readJson,
  largeJson: readLargeJson,
};
