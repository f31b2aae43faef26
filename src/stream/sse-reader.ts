import { type EventSourceMessage, createParser } from 'eventsource-parser';
import type { RequestRecord } from '../record.js';
import type { ResponseFormat } from '../request/describe.js';
import { ERROR_STREAM } from '../semconv.js';
import type { BodyReader } from './body-reader.js';
import { GapHistogram } from './gap-histogram.js';
import { errorCodeOf, findModel, findUsage, normalizeUsage } from './json-text.js';

/** What the SSE reader needs beyond the record. */
export interface SseReaderOptions {
  readonly format: ResponseFormat;
  /**
   * inferometer asked for usage on the app's behalf: remove the usage-only chunk and the
   * `"usage":null` member of every other chunk, so the app sees the chunks it asked for.
   */
  readonly hideUsage: boolean;
  /** Bounds provider error codes (`error.type`). */
  readonly admitErrorCode: (code: string) => string;
}

const USAGE_NULL = /,\s*"usage"\s*:\s*null|"usage"\s*:\s*null\s*,?/;
const USAGE_OBJECT = /"usage"\s*:\s*\{/;
const EMPTY_CHOICES = /"choices"\s*:\s*\[\s*\]/;

/**
 * Reads an SSE body (chat completions, legacy completions, or the Responses API) as it arrives
 * and timestamps, per event: the first event, the first event that carries output, and every
 * output event after it. Events are JSON-parsed only until the first output is found; after that
 * an event costs a few substring checks (figures: bench/).
 */
export function createSseReader(record: RequestRecord, options: SseReaderOptions): BodyReader {
  const { format, hideUsage, admitErrorCode } = options;
  const decoder = new TextDecoder();
  let now = 0;
  let complete = false;
  let errorType: string | undefined;
  let sawOutput = false;
  /** The last two data payloads (references only), to judge a body that ends without [DONE]. */
  let lastData = '';
  let previousData = '';
  /** Rewritten events of the current network chunk, when hiding usage. */
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

  /** Chat completions / legacy completions events. Returns the data to forward (or null to drop it). */
  const onChatEvent = (data: string): string | null => {
    if (data === '[DONE]') {
      complete = true;
      return data;
    }
    previousData = lastData;
    lastData = data;
    if (!sawOutput) return inspectChat(data);
    // Hot path: an ordinary chunk after the first output. No JSON parse.
    const usageAt = data.indexOf('"usage"');
    if (usageAt !== -1 && USAGE_OBJECT.test(data)) return inspectChat(data);
    if (data.indexOf('"error"') !== -1 && data.indexOf('"choices"') === -1) return inspectChat(data);
    onOutput();
    return hideUsage && usageAt !== -1 ? data.replace(USAGE_NULL, '') : data;
  };

  const inspectChat = (data: string): string | null => {
    let chunk: Record<string, unknown>;
    try {
      chunk = JSON.parse(data) as Record<string, unknown>;
    } catch {
      return data; // malformed: the app's SDK decides what that means
    }
    if (typeof chunk !== 'object' || chunk === null) return data;
    const model = chunk['model'];
    // Azure's content-filter chunk carries `"model": ""`: only a real name counts.
    if (record.responseModel === undefined && typeof model === 'string' && model !== '') {
      record.responseModel = model.slice(0, 128);
    }
    if (chunk['error'] !== undefined && chunk['error'] !== null) {
      onError(chunk['error']);
      return data;
    }
    const usage = normalizeUsage(chunk['usage']);
    if (usage !== undefined) record.usage = usage;
    const choices = chunk['choices'];
    if (Array.isArray(choices) && choices.some(carriesOutput)) onOutput();
    if (hideUsage) {
      if (usage !== undefined && EMPTY_CHOICES.test(data)) return null;
      if (data.indexOf('"usage"') !== -1) return data.replace(USAGE_NULL, '');
    }
    return data;
  };

  /** Responses API events: framed by `event:`, terminal `response.completed|incomplete|failed`. */
  const onResponsesEvent = (type: string | undefined, data: string): void => {
    type ??= findType(data);
    if (type === undefined) return;
    if (type.endsWith('.delta')) {
      onOutput();
      return;
    }
    switch (type) {
      case 'response.created':
      case 'response.in_progress':
        record.responseModel ??= findModel(data);
        return;
      case 'response.completed':
      case 'response.incomplete':
        complete = true;
        record.responseModel = findModel(data) ?? record.responseModel;
        record.usage = findUsage(data) ?? record.usage;
        return;
      case 'response.failed': {
        complete = true;
        record.usage = findUsage(data) ?? record.usage;
        let failure: unknown;
        try {
          failure = (JSON.parse(data) as { response?: { error?: unknown } }).response?.error;
        } catch {
          failure = undefined;
        }
        onError(failure);
        return;
      }
      case 'error': {
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
    }
  };

  const parser = createParser({
    onEvent(event: EventSourceMessage) {
      if (Number.isNaN(record.firstChunkAt)) record.firstChunkAt = now;
      if (format === 'responses') {
        onResponsesEvent(event.event, event.data);
        return;
      }
      const forwarded = onChatEvent(event.data);
      if (hideUsage && forwarded !== null) out += serialize(event, forwarded);
    },
  });

  return {
    push(chunk, at) {
      now = at;
      parser.feed(decoder.decode(chunk, STREAMING));
      if (!hideUsage) return chunk;
      if (out === '') return null;
      const bytes = encoder.encode(out);
      out = '';
      return bytes;
    },
    end(at) {
      now = at;
      const rest = decoder.decode();
      if (rest !== '') parser.feed(rest);
      // A chat stream that ends without [DONE] is still complete if its final chunk said why it stopped.
      if (!complete && format === 'chat' && sawFinish(lastData, previousData)) complete = true;
      if (!hideUsage || out === '') return null;
      const bytes = encoder.encode(out);
      out = '';
      return bytes;
    },
    get complete() {
      return complete;
    },
    get errorType() {
      return errorType;
    },
  };
}

const encoder = new TextEncoder();
const STREAMING: TextDecodeOptions = { stream: true };

function serialize(event: EventSourceMessage, data: string): string {
  let text = '';
  if (event.event !== undefined) text += `event: ${event.event}\n`;
  if (event.id !== undefined) text += `id: ${event.id}\n`;
  if (data.indexOf('\n') === -1) return `${text}data: ${data}\n\n`;
  for (const line of data.split('\n')) text += `data: ${line}\n`;
  return `${text}\n`;
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

function nonEmpty(value: unknown): boolean {
  return typeof value === 'string' && value.length > 0;
}

const TYPE = /"type"\s*:\s*"([^"\\]{1,100})"/;

function findType(data: string): string | undefined {
  return TYPE.exec(data)?.[1];
}

const FINISH = /"finish_reason"\s*:\s*"/;

function sawFinish(...data: string[]): boolean {
  return data.some((d) => FINISH.test(d));
}
