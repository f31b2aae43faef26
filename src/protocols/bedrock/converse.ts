import { estimateTokens } from '../../request/estimate.js';
import { OPERATION_CHAT } from '../../semconv.js';
import { findObject, member, parseJson } from '../json-lookup.js';
import type { EventReader, JsonObject, MessageReader, Protocol, ProtocolRequest, ResponseSink } from '../protocol.js';
import { bedrockRoute, converseUsage, latencyOf, payloadText, readException } from './route.js';

/*
 * Amazon Bedrock Converse (`POST /model/{modelId}/converse`) and ConverseStream
 * (`…/converse-stream`): one request shape for every model on Bedrock. The stream is a binary
 * event stream (`application/vnd.amazon.eventstream`) whose messages are named by their
 * `:event-type` header: messageStart, contentBlockStart, contentBlockDelta (the output: text,
 * tool input, reasoning), contentBlockStop, messageStop (the answer is complete), then metadata
 * (usage, and `metrics.latencyMs`: Bedrock's own figure of its processing time). An error inside
 * a 200 stream is a message of `:message-type` exception. No event names the model: the request's
 * model id stands. JSON payloads carry a padding member `p` (random text), which is never read.
 */

const PROMPT_KEYS = ['system', 'messages'] as const;

function recognise(url: URL, body: JsonObject | undefined): ProtocolRequest | undefined {
  const route = bedrockRoute(url);
  if (route === undefined || (route.action !== 'converse' && route.action !== 'converse-stream')) return undefined;
  return {
    operation: OPERATION_CHAT,
    model: route.modelId,
    stream: route.action === 'converse-stream',
    estimatedInputTokens: estimateTokens(body, PROMPT_KEYS),
    // Converse streams always end with their usage (metadata).
    withUsageRequested: () => undefined,
    refusesUsageRequest: () => false,
  };
}

/** Whether a contentBlockDelta's `delta` carries generated output: text, tool input or reasoning text, not empty. */
function deltaCarriesOutput(delta: unknown): boolean {
  const text = member(delta, 'text');
  if (typeof text === 'string') return text !== '';
  const input = member(member(delta, 'toolUse'), 'input');
  if (typeof input === 'string') return input !== '';
  const reasoning = member(member(delta, 'reasoningContent'), 'text');
  return typeof reasoning === 'string' && reasoning !== '';
}

/** Reads parsed Converse stream events (by their event type); see {@link converseEventReader}. */
export interface ConverseEventReader {
  /** One event: its type (`contentBlockDelta`, …) and its parsed payload. */
  read(type: string, event: unknown): void;
  /** An event with generated output was read. */
  readonly sawOutput: boolean;
}

/**
 * Reads Converse stream events into a sink: output from contentBlockDelta, the end from
 * messageStop, usage and the server's latency from metadata. Shared with InvokeModel streams of
 * Amazon Nova, whose chunks carry these same events (`{"contentBlockDelta": {…}}`).
 */
export function converseEventReader(sink: ResponseSink): ConverseEventReader {
  let sawOutput = false;
  return {
    read(type, event) {
      if (type === 'contentBlockDelta') {
        if (deltaCarriesOutput(member(event, 'delta'))) {
          sawOutput = true;
          sink.output();
        }
      } else if (type === 'messageStop') {
        sink.complete();
      } else if (type === 'metadata') {
        const usage = converseUsage(member(event, 'usage'));
        if (usage !== undefined) sink.usage(usage);
        const latency = latencyOf(member(member(event, 'metrics'), 'latencyMs'));
        if (latency !== undefined) sink.serverTiming(latency);
      }
    },
    get sawOutput() {
      return sawOutput;
    },
  };
}

const TEXT_DELTA = '"delta":{"text":"';

function messages(sink: ResponseSink): MessageReader {
  const reader = converseEventReader(sink);
  return {
    read(message) {
      if (readException(message, sink)) return;
      const type = message.headers[':event-type'];
      if (type === undefined) return;
      const text = payloadText(message.payload);
      // Hot path: after the first output, a text delta of the usual shape is classified by
      // substring, with no parse (a quote inside generated text is escaped, so it cannot fake it).
      if (reader.sawOutput && type === 'contentBlockDelta') {
        const at = text.indexOf(TEXT_DELTA);
        if (at !== -1) {
          if (text.charCodeAt(at + TEXT_DELTA.length) !== 34 /* " */) sink.output();
          return;
        }
      }
      reader.read(type, parseJson(text));
    },
    end() {},
  };
}

/** Converse never answers with SSE; a body that does holds nothing this protocol reads. */
function events(): EventReader {
  return { read: (block) => block, end() {} };
}

function json(body: unknown, sink: ResponseSink): void {
  const usage = converseUsage(member(body, 'usage'));
  if (usage !== undefined) sink.usage(usage);
  const latency = latencyOf(member(member(body, 'metrics'), 'latencyMs'));
  if (latency !== undefined) sink.serverTiming(latency);
}

function largeJson(_head: string, tail: string, sink: ResponseSink): void {
  json({ usage: findObject(tail, 'usage'), metrics: findObject(tail, 'metrics') }, sink);
}

/** Amazon Bedrock Converse and ConverseStream, through the AWS SDK or any client that takes a fetch. */
export const bedrockConverse: Protocol = {
  name: 'aws.bedrock.converse',
  provider: 'aws.bedrock',
  recognise,
  events,
  cutMarker: undefined,
  messages,
  json,
  largeJson,
};
