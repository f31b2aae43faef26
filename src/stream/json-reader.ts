import type { RequestRecord } from '../record.js';
import type { BodyReader } from './body-reader.js';
import { findModel, findUsage, normalizeUsage } from './json-text.js';

/** Bodies up to this size are parsed whole at the end; larger ones are searched in their head and tail. */
const PARSE_LIMIT = 1024 * 1024;
const HEAD_BYTES = 4 * 1024;
const TAIL_BYTES = 16 * 1024;

/**
 * Reads a non-streamed JSON response for its model and usage. Chunks pass through untouched.
 * Up to 1 MiB the body is kept and parsed once at the end (exact: `response.metadata.usage`
 * cannot be mistaken for the usage); a larger body (a big embeddings batch) keeps only its
 * first 4 KiB and last 16 KiB, where OpenAI responses put `model` and `usage`, so memory stays
 * bounded and nothing is parsed twice.
 */
export function createJsonReader(record: RequestRecord): BodyReader {
  const chunks: Uint8Array[] = [];
  /** Bytes held in `chunks`. */
  let held = 0;
  /** The first 4 KiB, once the body outgrew the parse limit (from then on only the tail is held). */
  let head: Uint8Array | undefined;
  let complete = false;

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
    end() {
      complete = true;
      const decoder = new TextDecoder();
      const text = decoder.decode(concat(chunks));
      chunks.length = 0;
      if (head === undefined) {
        readWhole(record, text);
      } else {
        record.responseModel = findModel(decoder.decode(head)) ?? findModel(text) ?? record.responseModel;
        record.usage = findUsage(text) ?? record.usage;
      }
      return null;
    },
    get complete() {
      return complete;
    },
    errorType: undefined,
  };
}

function readWhole(record: RequestRecord, text: string): void {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return;
  }
  if (typeof body !== 'object' || body === null) return;
  const b = body as Record<string, unknown>;
  const model = b['model'];
  if (typeof model === 'string' && model !== '') record.responseModel = model.slice(0, 128);
  record.usage = normalizeUsage(b['usage']) ?? record.usage;
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
