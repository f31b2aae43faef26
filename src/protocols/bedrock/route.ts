import { tokenCount, type Usage } from '../../usage.js';
import { member } from '../json-lookup.js';
import type { ResponseSink, StreamMessage } from '../protocol.js';

/*
 * What Bedrock's two protocols (Converse, InvokeModel) share: the route
 * `POST /model/{modelId}/{action}`, the exceptions of an event stream, the Converse usage shape
 * (also InvokeModel's for Amazon Nova) and a payload's text.
 */

/** The four runtime actions inferometer meters. */
export type BedrockAction = 'converse' | 'converse-stream' | 'invoke' | 'invoke-with-response-stream';

const ROUTE = /\/model\/([^/]+)\/(converse-stream|converse|invoke-with-response-stream|invoke)\/?$/;

/**
 * The model id and the action of a runtime request, or undefined for any other path. The id is
 * URL-decoded: a foundation model (`anthropic.claude-sonnet-4-5-20250929-v1:0`), an inference
 * profile (`us.anthropic.claude-…`) or an ARN (`arn:aws:bedrock:…:inference-profile/…`).
 */
export function bedrockRoute(url: URL): { readonly modelId: string; readonly action: BedrockAction } | undefined {
  const route = ROUTE.exec(url.pathname);
  if (route === null) return undefined;
  let modelId = route[1]!;
  try {
    modelId = decodeURIComponent(modelId);
  } catch {
    // A malformed escape: keep the id as it came.
  }
  return { modelId, action: route[2] as BedrockAction };
}

/**
 * An `exception` message (`:exception-type`: throttlingException, modelStreamErrorException,
 * validationException, internalServerException, serviceUnavailableException,
 * modelTimeoutException, …) or an `error` message (`:error-code`) is the provider's error:
 * reported, and true. False for any other message.
 */
export function readException(message: StreamMessage, sink: ResponseSink): boolean {
  const type = message.headers[':message-type'];
  if (type === 'exception') sink.error(message.headers[':exception-type']);
  else if (type === 'error') sink.error(message.headers[':error-code']);
  else return false;
  return true;
}

/**
 * Converse usage (`{inputTokens, outputTokens, cacheReadInputTokens, cacheWriteInputTokens}`) as
 * the conventions count it: `inputTokens` leaves cache reads and writes out, so they are added.
 * Converse reports no reasoning count apart (reasoning is inside `outputTokens`).
 */
export function converseUsage(raw: unknown): Usage | undefined {
  const input = tokenCount(member(raw, 'inputTokens'));
  const output = tokenCount(member(raw, 'outputTokens'));
  if (input === undefined && output === undefined) return undefined;
  const cacheRead = tokenCount(member(raw, 'cacheReadInputTokens')) ?? 0;
  const cacheWrite = tokenCount(member(raw, 'cacheWriteInputTokens')) ?? 0;
  return { input: input === undefined ? undefined : input + cacheRead + cacheWrite, cacheRead, cacheWrite, output, reasoning: 0, estimated: false };
}

/** The server's own latency figure (ms), if `value` is one. */
export function latencyOf(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

const utf8 = new TextDecoder();

/** A payload's text (UTF-8; JSON as a rule). */
export function payloadText(payload: Uint8Array): string {
  return utf8.decode(payload);
}
