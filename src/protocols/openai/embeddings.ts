import { OPERATION_EMBEDDINGS } from '../../semconv.js';
import type { EventReader, JsonObject, Protocol, ProtocolRequest } from '../protocol.js';
import { openaiRequest, readJson, readLargeJson, routeIs } from './request.js';

/* OpenAI embeddings (`/embeddings`): one JSON response with `model` first and `usage` last. */

function recognise(url: URL, body: JsonObject | undefined): ProtocolRequest | undefined {
  return routeIs(url, '/embeddings') ? { ...openaiRequest(OPERATION_EMBEDDINGS, body), stream: false } : undefined;
}

/** Embeddings never stream: an event stream answered to one is read for nothing but its end. */
const events = (): EventReader => ({ read: (block) => block, end() {} });

/** OpenAI embeddings. */
export const openaiEmbeddings: Protocol = {
  name: 'openai.embeddings',
  provider: 'openai',
  recognise,
  events,
  cutMarker: undefined,
  json: readJson,
  largeJson: readLargeJson,
};
