import type { RequestRecord } from '../record.js';
import type { BodyReader } from './body-reader.js';
import { findModel, findUsage } from './json-text.js';

const HEAD_BYTES = 4 * 1024;
const TAIL_BYTES = 16 * 1024;

/**
 * Reads a non-streamed JSON response for its model and usage without holding the whole body: it
 * keeps the first 4 KiB (where chat and Responses put `model`) and the last 16 KiB or more (where
 * every OpenAI response puts `usage`, and embeddings put `model`). A 30 MB embeddings response
 * costs two small decodes, not a second parse. Chunks pass through untouched.
 */
export function createJsonReader(record: RequestRecord): BodyReader {
  const head = new Uint8Array(HEAD_BYTES);
  let headLength = 0;
  const tail: Uint8Array[] = [];
  let tailLength = 0;
  let complete = false;

  return {
    push(chunk) {
      if (headLength < HEAD_BYTES) {
        const n = Math.min(HEAD_BYTES - headLength, chunk.byteLength);
        head.set(chunk.subarray(0, n), headLength);
        headLength += n;
      }
      tail.push(chunk);
      tailLength += chunk.byteLength;
      while (tail.length > 1 && tailLength - tail[0]!.byteLength >= TAIL_BYTES) {
        tailLength -= tail.shift()!.byteLength;
      }
      return chunk;
    },
    end() {
      complete = true;
      const decoder = new TextDecoder();
      const headText = decoder.decode(head.subarray(0, headLength));
      const tailText = tail.map((c) => decoder.decode(c, { stream: true })).join('') + decoder.decode();
      record.responseModel = findModel(headText) ?? findModel(tailText) ?? record.responseModel;
      record.usage = findUsage(tailText) ?? record.usage;
      tail.length = 0;
      return null;
    },
    get complete() {
      return complete;
    },
    errorType: undefined,
  };
}
