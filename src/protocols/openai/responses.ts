import { OPERATION_CHAT } from '../../semconv.js';
import { createBlockParser } from '../../stream/sse-events.js';
import type { EventReader, JsonObject, Protocol, ProtocolRequest, ResponseSink } from '../protocol.js';
import { errorCodeOf, normalizeUsage } from './json-text.js';
import { openaiRequest, readJson, readLargeJson, routeIs } from './request.js';

/*
 * The OpenAI Responses API (`/responses`): `event:`-framed events whose data carries their
 * `type`; the model's output arrives in `*.delta` events, the end in `response.completed`,
 * `response.incomplete` or `response.failed`, usage in the terminal event's `response.usage`.
 */

const TYPE = /"type"\s*:\s*"([^"\\]{1,100})"/;

/**
 * The delta events that carry what the model generates. Deltas of a hosted tool's own output
 * (a shell's or code interpreter's logs, for example) are not model output.
 */
const OUTPUT_DELTAS: readonly string[] = [
  'response.output_text.delta',
  'response.reasoning_summary_text.delta',
  'response.reasoning_text.delta',
  'response.function_call_arguments.delta',
  'response.refusal.delta',
  'response.audio.delta',
  'response.audio.transcript.delta',
  'response.custom_tool_call_input.delta',
  'response.mcp_call_arguments.delta',
  'response.code_interpreter_call_code.delta',
];
const OUTPUT_DELTA_SET = new Set(OUTPUT_DELTAS);

function recognise(url: URL, body: JsonObject | undefined): ProtocolRequest | undefined {
  return routeIs(url, '/responses') ? openaiRequest(OPERATION_CHAT, body) : undefined;
}

function events(sink: ResponseSink): EventReader {
  const parse = createBlockParser();
  let sawOutput = false;

  const inspect = (type: string | undefined, data: string): void => {
    type ??= TYPE.exec(data)?.[1];
    if (type === undefined) return;
    if (type.endsWith('.delta')) {
      if (OUTPUT_DELTA_SET.has(type)) {
        sawOutput = true;
        sink.output();
      }
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
      sink.error(errorCodeOf(failure));
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
    if (typeof response['model'] === 'string') sink.model(response['model']);
    if (type === 'response.completed' || type === 'response.incomplete' || type === 'response.failed') {
      const usage = normalizeUsage(response['usage']);
      if (usage !== undefined) sink.usage(usage);
      if (type === 'response.failed') sink.error(errorCodeOf(response['error']));
      sink.complete();
    }
  };

  return {
    read(block) {
      // Hot path: after the first output, a model-output delta framed `event: ….delta` on its
      // first line is output, with no parse and no allocation.
      if (sawOutput && isOutputDeltaEvent(block)) {
        sink.output();
        return block;
      }
      for (const event of parse(block)) inspect(event.event, event.data);
      return block;
    },
    end() {},
  };
}

/** A block whose first line is `event: <a model-output delta>` (LF-framed), with a data line after it. */
function isOutputDeltaEvent(block: string): boolean {
  if (!block.startsWith('event:')) return false;
  const eol = block.indexOf('\n');
  if (eol === -1 || block.charCodeAt(eol - 1) === 13 || !block.startsWith('data:', eol + 1)) return false;
  const at = block.charCodeAt(6) === 32 ? 7 : 6;
  for (const type of OUTPUT_DELTAS) if (eol - at === type.length && block.startsWith(type, at)) return true;
  return false;
}

/** The OpenAI Responses API. */
export const openaiResponses: Protocol = {
  name: 'openai.responses',
  provider: 'openai',
  recognise,
  events,
  cutMarker: undefined,
  json: readJson,
  largeJson: readLargeJson,
};
