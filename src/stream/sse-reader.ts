import { type EventSourceMessage, createParser } from 'eventsource-parser';
import type { RequestRecord } from '../record.js';
import type { ResponseFormat } from '../request/describe.js';
import { ERROR_NOT_EVENT_STREAM, ERROR_STREAM } from '../semconv.js';
import { warnOnce } from '../diag.js';
import type { BodyReader } from './body-reader.js';
import { GapHistogram } from './gap-histogram.js';
import { errorCodeOf, normalizeUsage } from './json-text.js';
import { BlockSplitter } from './sse-blocks.js';
import { USAGE_NULL, cutUsageNull, serialize, valueAt, withoutMember } from './usage-member.js';

/** What the SSE reader needs beyond the record. */
export interface SseReaderOptions {
  readonly format: ResponseFormat;
  /**
   * inferometer asked for usage on the app's behalf: leave out the usage-only chunk and the
   * `"usage":null` member of every other chunk, so the app sees the chunks it asked for.
   */
  readonly hideUsage: boolean;
  /** Bounds provider error codes (`error.type`). */
  readonly admitErrorCode: (code: string) => string;
  /**
   * The response said it is an event stream (`text/event-stream`). A body that says otherwise
   * and holds no event is `not_event_stream`; one that says so is an interrupted stream.
   */
  readonly declaredEventStream: boolean;
}

const EMPTY_CHOICES = /"choices"\s*:\s*\[\s*\]/;
const FINISH = /"finish_reason"\s*:\s*"/;
const TYPE = /"type"\s*:\s*"([^"\\]{1,100})"/;
const STREAMING: TextDecodeOptions = { stream: true };
const DONE = 'data: [DONE]\n\n';
/**
 * How much of an event still under way is held back when usage is hidden (characters): the tail
 * in which its `"usage":null` member can be cut out. OpenAI puts it last, followed at most by
 * an `obfuscation` member of a few hundred characters. Everything before it reaches the app as
 * it arrives, so an event of many megabytes is not held back until its end.
 */
const HELD_BACK_CHARS = 16 * 1024;
/**
 * An event under way that holds a `"usage"` key is held back from this many characters before
 * the key on (where the comma the cut takes with the member sits, on its line or the one before):
 * a server that puts the member first still has it cut out of a long event.
 */
const USAGE_MARGIN = 256;
const DONE_NO_SPACE = 'data:[DONE]\n\n';
const encoder = new TextEncoder();

/**
 * Reads an SSE body (chat completions, legacy completions, or the Responses API) as it arrives
 * and timestamps, per event: the first event, the first event that carries output, and every
 * output event after it.
 *
 * The text is cut into event blocks ({@link BlockSplitter}). Blocks are interpreted by
 * eventsource-parser until the first output; after it, an ordinary chat chunk (a `data:` block
 * of an LF-framed stream) costs a few substring searches and no parse. When usage is hidden, the
 * app gets the original blocks, minus the usage-only one and the `"usage":null` members cut out
 * in place, so comments, ids, line ends and odd events reach the app's SSE decoder as the server
 * sent them; only an odd block (several data lines, CR line ends) that carries such a member is
 * written anew, with the same event type, id and data.
 */
export function createSseReader(record: RequestRecord, options: SseReaderOptions): BodyReader {
  const { format, hideUsage, admitErrorCode, declaredEventStream } = options;
  const decoder = new TextDecoder();
  const splitter = new BlockSplitter();
  let now = 0;
  let complete = false;
  let errorType: string | undefined;
  let sawOutput = false;
  /** Whether the body held any bytes, and any SSE event (a block with a data field). */
  let sawBytes = false;
  let sawEvent = false;
  /** Whether the last two chat chunks gave a finish_reason, to judge a stream that ends without [DONE]. */
  let lastFinished = false;
  let previousFinished = false;
  /** Text for the app from the blocks of the current chunk, when hiding usage. */
  let out = '';

  const onOutput = (): void => {
    if (!sawOutput) {
      sawOutput = true;
      record.firstOutputAt = now;
    } else {
      (record.gaps ??= new GapHistogram()).add(now - record.lastOutputAt);
    }
    record.lastOutputAt = now;
    record.outputChunks++;
  };

  const onError = (payload: unknown): void => {
    const code = errorCodeOf(payload);
    errorType = code === undefined ? ERROR_STREAM : admitErrorCode(code);
  };

  /** The parsed events of a block (slow path: an odd block, or one before the first output). */
  let parsed: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (event) => parsed.push(event) });
  const parse = (block: string): EventSourceMessage[] => {
    parsed = [];
    // A block may end in a CR whose LF has not come (yet): the parser would wait for it.
    parser.feed(block.charCodeAt(block.length - 1) === 13 ? `${block}\n` : block);
    return parsed;
  };

  /** A chat or legacy completions chunk, parsed. Returns false to leave the block out (hidden usage). */
  const inspectChat = (data: string): boolean => {
    if (data === '[DONE]') {
      complete = true;
      return true;
    }
    previousFinished = lastFinished;
    lastFinished = FINISH.test(data);
    let chunk: Record<string, unknown>;
    try {
      chunk = JSON.parse(data) as Record<string, unknown>;
    } catch {
      return true; // malformed: the app's SDK decides what that means
    }
    if (typeof chunk !== 'object' || chunk === null) return true;
    const model = chunk['model'];
    // Azure's content-filter chunk carries `"model": ""`: only a real name counts.
    if (record.responseModel === undefined && typeof model === 'string' && model !== '') {
      record.responseModel = model.slice(0, 128);
    }
    if (chunk['error'] !== undefined && chunk['error'] !== null) {
      onError(chunk['error']);
      return true;
    }
    const usage = normalizeUsage(chunk['usage']);
    if (usage !== undefined) {
      record.usage = usage;
      if (EMPTY_CHOICES.test(data)) return !hideUsage; // the usage-only chunk: no output
    }
    // Before the first output a chunk must carry some; after it every chunk counts, parsed or
    // not (so the count does not depend on which path read it), but a finish chunk without output.
    const choices = Array.isArray(chunk['choices']) ? (chunk['choices'] as unknown[]) : [];
    const carries = choices.some(carriesOutput);
    if (carries || (sawOutput && !choices.some(finished))) onOutput();
    return true;
  };

  /** A Responses API event. */
  const inspectResponses = (type: string | undefined, data: string): void => {
    type ??= TYPE.exec(data)?.[1];
    if (type === undefined) return;
    if (type.endsWith('.delta')) {
      onOutput();
      return;
    }
    if (type === 'error') {
      let failure: unknown;
      try {
        const parsed = JSON.parse(data) as { error?: unknown; code?: unknown };
        // The flat shape's `type` is the event name ("error"), not a code: read only `code`.
        failure = parsed.error ?? { code: parsed.code };
      } catch {
        failure = undefined;
      }
      onError(failure);
      return;
    }
    if (!type.startsWith('response.')) return;
    let response: Record<string, unknown> | undefined;
    try {
      response = (JSON.parse(data) as { response?: Record<string, unknown> }).response;
    } catch {
      response = undefined;
    }
    if (typeof response !== 'object' || response === null) return;
    if (typeof response['model'] === 'string' && response['model'] !== '') record.responseModel = response['model'].slice(0, 128);
    if (type === 'response.completed' || type === 'response.incomplete' || type === 'response.failed') {
      complete = true;
      record.usage = normalizeUsage(response['usage']) ?? record.usage;
      if (type === 'response.failed') onError(response['error']);
    }
  };

  /**
   * Hot path: an ordinary chat chunk after the first output, in an LF-framed stream. No JSON
   * parse, no regular expression, no copy: two substring searches (`"usage"` from the end, where
   * OpenAI puts it; `"choices"`, near the start) and one from the end for `"finish_reason"`.
   * Anything unusual (a usage object, an error event, a usage member it cannot cut out cleanly)
   * goes the slow way. Returns what `read` returns.
   */
  const readChatChunk = (block: string): string => {
    // Exactly `[DONE]`, as the SDK takes it: `data: [DONE] ` (a trailing space) is not the end.
    if (block === DONE || block === DONE_NO_SPACE) {
      complete = true;
      return block;
    }
    let forward = block;
    const usageAt = block.lastIndexOf('"usage"');
    if (usageAt !== -1) {
      const value = valueAt(block, usageAt + 7);
      if (value === -1 || !block.startsWith('null', value)) return readSlowly(block);
      if (hideUsage) {
        const cut = withoutMember(block, usageAt, value + 4);
        if (cut === undefined) return readSlowly(block);
        forward = cut;
      }
    }
    if (block.indexOf('"choices"') === -1) return readSlowly(block);
    const finishAt = block.lastIndexOf('"finish_reason"');
    const finishValue = finishAt === -1 ? -1 : valueAt(block, finishAt + 15);
    // The finish chunk (a string, not null) usually carries no output: parse it, once a stream.
    if (finishValue !== -1 && block.charCodeAt(finishValue) === 34) return readSlowly(block);
    previousFinished = lastFinished;
    lastFinished = false;
    onOutput();
    return forward;
  };

  /** Any block, interpreted by eventsource-parser. Returns what `read` returns. */
  const readSlowly = (block: string): string => {
    let keep = true;
    for (const event of parse(block)) {
      if (format === 'chat') keep = inspectChat(event.data) && keep;
      else inspectResponses(event.event, event.data);
    }
    if (!hideUsage || !keep) return '';
    if (block.indexOf('"usage"') === -1) return block;
    const events = parse(block);
    const event = events[0];
    if (events.length !== 1 || event === undefined) return block;
    const stripped = event.data.replace(USAGE_NULL, '');
    if (stripped === event.data) return block;
    // Cut the member out in place where the app's decoder then reads the same event (the text
    // around it stays as it came: a long event's head may already be with the app) ...
    const cut = cutUsageNull(block);
    if (cut !== undefined) {
      const again = parse(cut)[0];
      if (again !== undefined && again.data === stripped && again.event === event.event && again.id === event.id) return cut;
    }
    // ... else write the one event anew: the same event type, id and data; comments inside the
    // block are left out.
    return serialize(event, stripped);
  };

  /**
   * One complete event block. Returns the text the app gets for it when hiding usage ('' for
   * none; ignored otherwise). `lfOnly`: the block has no CR (the splitter's fast path).
   */
  const read = (block: string, lfOnly: boolean): string => {
    if (!sawEvent && hasData(block)) {
      sawEvent = true;
      if (Number.isNaN(record.firstChunkAt)) record.firstChunkAt = now;
    }
    if (sawOutput && lfOnly && block.startsWith('data:') && format === 'chat') return readChatChunk(block);
    if (sawOutput && format === 'responses' && isDeltaEvent(block)) {
      onOutput();
      return block;
    }
    return readSlowly(block);
  };

  const onBlock = (block: string, lfOnly: boolean, taken: number): void => {
    const forward = read(block, lfOnly);
    if (hideUsage) out += taken === 0 ? forward : rest(block, forward, taken);
  };

  const takeOut = (): Uint8Array | null => {
    if (out === '') return null;
    const bytes = encoder.encode(out);
    out = '';
    return bytes;
  };

  return {
    push(chunk, at) {
      now = at;
      sawBytes ||= chunk.byteLength > 0;
      splitter.push(decoder.decode(chunk, STREAMING), onBlock);
      if (!hideUsage) return chunk;
      // An event longer than the read-ahead: hand the app its head now, as the bare SDK would
      // have it, and keep back only the tail, where a `"usage":null` member to cut out sits.
      out += splitter.takeAhead(HELD_BACK_CHARS, '"usage"', USAGE_MARGIN);
      return takeOut();
    },
    end(at) {
      now = at;
      const tail = decoder.decode();
      if (tail !== '') splitter.push(tail, onBlock);
      // The app's SSE decoder dispatches an event the stream ended in the middle of: so do we.
      const taken = splitter.taken;
      const last = splitter.flush();
      if (last !== '') {
        // Read it as ended, but forward it as it came (without the empty line that ends it here).
        const forward = read(`${last}\n\n`, false);
        if (hideUsage && forward !== '') out += taken === 0 ? forward.slice(0, -2) : rest(last, forward.slice(0, -2), taken);
      }
      // A chat stream that ends without [DONE] is still complete if one of its last two chunks said
      // why it stopped (the usage chunk may follow the finish chunk).
      if (!complete && format === 'chat' && (lastFinished || previousFinished)) complete = true;
      // A body that is not SSE and holds not one event (JSON, text or HTML for a streamed request):
      // the app's stream yielded nothing of what it asked for.
      if (!declaredEventStream && sawBytes && !sawEvent && errorType === undefined) errorType = ERROR_NOT_EVENT_STREAM;
      return hideUsage ? takeOut() : null;
    },
    get complete() {
      return complete;
    },
    get errorType() {
      return errorType;
    },
  };
}

/** A Responses block whose first line is `event: ….delta` (an output event) with a data line. */
function isDeltaEvent(block: string): boolean {
  if (!block.startsWith('event:')) return false;
  const eol = block.indexOf('\n');
  return eol !== -1 && block.charCodeAt(eol - 1) !== 13 && block.slice(eol - 6, eol) === '.delta' && block.startsWith('data:', eol + 1);
}

/** Whether a block has a data field (an event the app's decoder dispatches), not only a comment. */
function hasData(block: string): boolean {
  return block.startsWith('data') || block.indexOf('\ndata') !== -1 || block.indexOf('\rdata') !== -1;
}

function carriesOutput(choice: unknown): boolean {
  if (typeof choice !== 'object' || choice === null) return false;
  const c = choice as Record<string, unknown>;
  if (nonEmpty(c['text'])) return true; // legacy completions
  const delta = c['delta'];
  if (typeof delta !== 'object' || delta === null) return false;
  const d = delta as Record<string, unknown>;
  return (
    nonEmpty(d['content']) ||
    nonEmpty(d['refusal']) ||
    nonEmpty(d['reasoning_content']) ||
    nonEmpty(d['reasoning']) ||
    (Array.isArray(d['tool_calls']) && d['tool_calls'].length > 0) ||
    (typeof d['function_call'] === 'object' && d['function_call'] !== null) ||
    (typeof d['audio'] === 'object' && d['audio'] !== null)
  );
}

function finished(choice: unknown): boolean {
  return typeof choice === 'object' && choice !== null && typeof (choice as Record<string, unknown>)['finish_reason'] === 'string';
}

function nonEmpty(value: unknown): boolean {
  return typeof value === 'string' && value.length > 0;
}

/**
 * What is left to hand the app of a block whose first `taken` characters it already has, given
 * what it should get of the whole block (`forward`). If `forward` changed the block only after
 * them, the rest of `forward`; else (a member to cut out, or a block to leave out, that lay in
 * what the app already has) the rest of the block as it came, and one diag warning.
 */
function rest(block: string, forward: string, taken: number): string {
  if (forward === block) return block.slice(taken);
  if (forward.length >= taken && forward.slice(0, taken) === block.slice(0, taken)) return forward.slice(taken);
  warnOnce('usage-cut-late', `an event over ${HELD_BACK_CHARS} characters carried usage data before its last ${HELD_BACK_CHARS}: it reached the app as the server sent it`);
  return block.slice(taken);
}
