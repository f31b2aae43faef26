/**
 * Which protocol answers a request, decided by its path: the default script of a path, and the
 * JSON reply (body or error shape) of a `json` script there. OpenAI paths go by suffix
 * (`endpointOf`); Anthropic is `.../messages`; Gemini and Vertex take model and method from
 * `.../models/{model}:{method}`.
 */
import { anthropicJsonReply, isAnthropicMessagesPath, planAnthropicStream } from './scripted-server-anthropic.ts';
import { geminiJsonReply, geminiTarget, planGeminiStream } from './scripted-server-gemini.ts';
import { buildJsonReply, endpointOf, isStreamingRequest, planChatStream, planRawSse, planResponsesStream } from './scripted-server-sse.ts';
import type { JsonReply, StreamPlan } from './scripted-server-sse.ts';
import type { JsonScript, RecordedRequest, Script } from './scripted-server-types.ts';

export type Protocol = 'openai' | 'anthropic' | 'gemini';
export function protocolOf(path: string): Protocol {
  if (geminiTarget(path)) return 'gemini';
  if (isAnthropicMessagesPath(path)) return 'anthropic';
  return 'openai';
}

/** The script of a request when none is queued and no fallback was set. */
export function defaultScriptFor(req: RecordedRequest): Script {
  switch (protocolOf(req.path)) {
    case 'gemini':
      return geminiTarget(req.path)?.method === 'streamGenerateContent' ? { kind: 'gemini-stream' } : { kind: 'json' };
    case 'anthropic':
      return isStreamingRequest(req) ? { kind: 'anthropic-stream' } : { kind: 'json' };
    case 'openai':
      if (!isStreamingRequest(req)) return { kind: 'json' };
      return endpointOf(req.path) === 'responses' ? { kind: 'responses-stream' } : { kind: 'chat-stream' };
  }
}

/** The reply of a `json` script in the protocol of the path. */
export function jsonReplyFor(script: JsonScript, req: RecordedRequest): JsonReply {
  switch (protocolOf(req.path)) {
    case 'gemini':
      return geminiJsonReply(script, req);
    case 'anthropic':
      return anthropicJsonReply(script);
    case 'openai':
      return buildJsonReply(script, req);
  }
}

/** The plan of a streaming script, or the JSON reply it turned into (chat-stream's rejectStreamOptions). */
export function planFor(
  script: Exclude<Script, { kind: 'json' | 'reset' | 'hang' }>,
  req: RecordedRequest,
): StreamPlan | JsonReply {
  switch (script.kind) {
    case 'chat-stream':
      return planChatStream(script, req);
    case 'responses-stream':
      return planResponsesStream(script);
    case 'raw-sse':
      return planRawSse(script);
    case 'anthropic-stream':
      return planAnthropicStream(script);
    case 'gemini-stream':
      return planGeminiStream(script, req);
  }
}
