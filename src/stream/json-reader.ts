import type { Protocol } from '../protocols/protocol.js';
import type { BodyReader } from './body-reader.js';
import type { RecordSink } from './record-sink.js';

/** Bodies up to this size are parsed whole at the end; larger ones are searched in their head and tail. */
const PARSE_LIMIT = 1024 * 1024;
const HEAD_BYTES = 4 * 1024;
const TAIL_BYTES = 16 * 1024;

/**
 * Reads a non-streamed JSON response for its protocol (model, usage, an error it reports).
 * Chunks pass through untouched. Up to 1 MiB the body is kept and parsed once at the end, and
 * the protocol reads the parsed value; a larger body (a big embeddings batch) keeps only its
 * first 4 KiB and last 16 KiB, which the protocol searches, so memory stays bounded and nothing
 * is parsed twice. The body having arrived whole is what makes the response complete.
 */
export function createJsonReader(protocol: Protocol, sink: RecordSink): BodyReader {
  const chunks: Uint8Array[] = [];
  /** Bytes held in `chunks`. */
  let held = 0;
  /** The first 4 KiB, once the body outgrew the parse limit (from then on only the tail is held). */
  let head: Uint8Array | undefined;

  return {
    push(chunk) {
      chunks.push(chunk);
      held += chunk.byteLength;
      if (head === undefined && held > PARSE_LIMIT) head = concat(chunks).slice(0, HEAD_BYTES);
      if (head !== undefined) {
        while (chunks.length > 1 && held - chunks[0]!.byteLength >= TAIL_BYTES) held -= chunks.shift()!.byteLength;
      }
      return chunk;
    },
    end(at) {
      sink.at = at;
      sink.completed = true;
      const decoder = new TextDecoder();
      const text = decoder.decode(concat(chunks));
      chunks.length = 0;
      if (head !== undefined) {
        protocol.largeJson(decoder.decode(head), text, sink);
        return null;
      }
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        return null;
      }
      protocol.json(body, sink);
      return null;
    },
    get complete() {
      return sink.completed;
    },
    get errorType() {
      return sink.errorType;
    },
  };
}

function concat(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  let length = 0;
  for (const c of chunks) length += c.byteLength;
  const all = new Uint8Array(length);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  return all;
}
