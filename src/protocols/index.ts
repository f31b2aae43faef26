import { anthropicMessages } from './anthropic.js';
import { bedrockConverse, bedrockInvoke } from './bedrock.js';
import { gemini } from './gemini.js';
import { openaiChat } from './openai/chat.js';
import { openaiEmbeddings } from './openai/embeddings.js';
import { openaiResponses } from './openai/responses.js';
import type { JsonObject, Protocol, Recognised } from './protocol.js';

/** Every protocol inferometer meters, asked in this order. */
export const PROTOCOLS: readonly Protocol[] = [openaiChat, openaiResponses, openaiEmbeddings, anthropicMessages, gemini, bedrockConverse, bedrockInvoke];

/** The protocol that serves a POST to `url` with `body`, and what it made of the request; undefined if none does. */
export function recognise(url: URL, body: JsonObject | undefined): Recognised | undefined {
  for (const protocol of PROTOCOLS) {
    const request = protocol.recognise(url, body);
    if (request !== undefined) return { protocol, request };
  }
  return undefined;
}
