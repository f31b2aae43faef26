import { EventStreamCodec, Int64 } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { describe, expect, it } from 'vitest';
import { type FrameMessage, MAX_MESSAGE_BYTES, crc32, createFrameDecoder, decodeHeaders } from '../../src/stream/eventstream-frames.js';

/*
 * The event stream decoder, checked against frames that the real AWS codec
 * (@smithy/eventstream-codec, which the AWS SDK and @ai-sdk/amazon-bedrock decode with) encodes.
 */

const codec = new EventStreamCodec(toUtf8, fromUtf8);
type Headers = Parameters<typeof codec.encode>[0]['headers'];

const str = (value: string) => ({ type: 'string' as const, value });
const event = (type: string, json: unknown): Uint8Array =>
  codec.encode({
    headers: { ':event-type': str(type), ':content-type': str('application/json'), ':message-type': str('event') },
    body: fromUtf8(JSON.stringify(json)),
  });

const MESSAGES: Array<{ headers: Headers; body: Uint8Array }> = [
  { headers: { ':event-type': str('messageStart'), ':message-type': str('event') }, body: fromUtf8('{"p":"abcd","role":"assistant"}') },
  { headers: {}, body: new Uint8Array(0) },
  { headers: { ':event-type': str('contentBlockDelta'), 'x-note': str('héllo ✓ 漢字') }, body: fromUtf8('{"delta":{"text":"Grüße 👋"}}') },
  { headers: { ':message-type': str('exception'), ':exception-type': str('throttlingException') }, body: fromUtf8('{"message":"slow down"}') },
  { headers: { ':event-type': str('big') }, body: Uint8Array.from({ length: 70_000 }, (_, i) => (i * 31) & 0xff) },
];
const FRAMES = MESSAGES.map((m) => codec.encode(m));
const STREAM = concat(FRAMES);

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** Decodes `bytes` fed in the given pieces; returns the messages (copied) and the decoder. */
function decode(pieces: Uint8Array[]) {
  const out: Array<{ headers: Record<string, string>; payload: Uint8Array }> = [];
  const decoder = createFrameDecoder((m: FrameMessage) => out.push({ headers: { ...m.headers }, payload: m.payload.slice() }));
  for (const piece of pieces) decoder.feed(piece);
  return { messages: out, decoder };
}

/** What the real codec makes of each frame: its string headers and its body. */
const EXPECTED = FRAMES.map((frame) => {
  const { headers, body } = codec.decode(frame);
  const strings: Record<string, string> = {};
  for (const [name, h] of Object.entries(headers)) if (h.type === 'string') strings[name] = h.value;
  return { headers: strings, payload: body.slice() };
});

describe('the event stream decoder', () => {
  it('computes CRC-32 (IEEE) as the standard check value says', () => {
    expect(crc32(fromUtf8('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it('decodes frames of the real codec: headers, UTF-8, empty and 70 KB payloads', () => {
    const { messages, decoder } = decode([STREAM]);
    expect(messages).toEqual(EXPECTED);
    expect(decoder.pending).toBe(0);
    expect(decoder.failure).toBeUndefined();
  });

  it('decodes the same at every split of the stream into two pieces', () => {
    // The first four frames (the 70 KB one aside, to keep this quadratic loop quick), and every
    // split of the 70 KB frame at a coarser step.
    const small = concat(FRAMES.slice(0, 4));
    for (let k = 0; k <= small.byteLength; k++) {
      const { messages, decoder } = decode([small.subarray(0, k), small.subarray(k)]);
      expect({ k, messages }).toEqual({ k, messages: EXPECTED.slice(0, 4) });
      expect(decoder.pending).toBe(0);
    }
    for (let k = 0; k <= STREAM.byteLength; k += 997) {
      expect(decode([STREAM.subarray(0, k), STREAM.subarray(k)]).messages).toEqual(EXPECTED);
    }
  });

  it('decodes the same fed one byte at a time, and in pieces of every size up to 40', () => {
    const small = concat(FRAMES.slice(0, 4));
    for (let size = 1; size <= 40; size++) {
      const pieces: Uint8Array[] = [];
      for (let at = 0; at < small.byteLength; at += size) pieces.push(small.subarray(at, at + size));
      expect({ size, messages: decode(pieces).messages }).toEqual({ size, messages: EXPECTED.slice(0, 4) });
    }
    const bytes: Uint8Array[] = [];
    for (let at = 0; at < STREAM.byteLength; at++) bytes.push(STREAM.subarray(at, at + 1));
    expect(decode(bytes).messages).toEqual(EXPECTED);
  });

  it('reads every header type of the spec as the real codec does', () => {
    const headers: Headers = {
      yes: { type: 'boolean', value: true },
      no: { type: 'boolean', value: false },
      b: { type: 'byte', value: -7 },
      s: { type: 'short', value: -1234 },
      i: { type: 'integer', value: 123_456_789 },
      l: { type: 'long', value: Int64.fromNumber(-9_007_199_254_740_991) },
      bin: { type: 'binary', value: Uint8Array.of(0, 1, 254, 255) },
      str: { type: 'string', value: 'ünïcode' },
      ts: { type: 'timestamp', value: new Date(1_760_000_000_123) },
      id: { type: 'uuid', value: '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0' },
    };
    const section = codec.formatHeaders(headers);
    expect(decodeHeaders(section)).toEqual({
      yes: { type: 'boolean', value: true },
      no: { type: 'boolean', value: false },
      b: { type: 'byte', value: -7 },
      s: { type: 'short', value: -1234 },
      i: { type: 'integer', value: 123_456_789 },
      l: { type: 'long', value: -9_007_199_254_740_991n },
      bin: { type: 'binary', value: Uint8Array.of(0, 1, 254, 255) },
      str: { type: 'string', value: 'ünïcode' },
      ts: { type: 'timestamp', value: 1_760_000_000_123n },
      id: { type: 'uuid', value: '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0' },
    });
    // In a message, the other types are stepped over and only the strings are kept.
    const { messages } = decode([codec.encode({ headers, body: fromUtf8('x') }), FRAMES[0]!]);
    expect(messages).toEqual([{ headers: { str: 'ünïcode' }, payload: fromUtf8('x') }, EXPECTED[0]]);
  });

  it('stops at a corrupt prelude CRC: the messages before it are read, nothing after', () => {
    const bad = FRAMES[2]!.slice();
    bad[9]! ^= 0x01;
    const { messages, decoder } = decode([concat([FRAMES[0]!, bad, FRAMES[3]!])]);
    expect(messages).toEqual([EXPECTED[0]]);
    expect(decoder.failure).toBe('prelude_crc');
    decoder.feed(FRAMES[0]!);
    expect(messages).toHaveLength(1);
  });

  it('stops at a corrupt message CRC or payload byte, however the bytes are split', () => {
    for (const flip of [-1, -20]) {
      const bad = FRAMES[2]!.slice();
      bad[bad.byteLength + flip]! ^= 0x80;
      const stream = concat([FRAMES[0]!, bad, FRAMES[3]!]);
      for (const k of [0, 5, 13, FRAMES[0]!.byteLength + 3, FRAMES[0]!.byteLength + 40]) {
        const { messages, decoder } = decode([stream.subarray(0, k), stream.subarray(k)]);
        expect({ flip, k, messages, failure: decoder.failure }).toEqual({ flip, k, messages: [EXPECTED[0]], failure: 'message_crc' });
      }
    }
  });

  it('stops at a length out of bounds without allocating it, even with a valid prelude CRC', () => {
    const prelude = (total: number, headers: number) => {
      const bytes = new Uint8Array(12);
      const view = new DataView(bytes.buffer);
      view.setUint32(0, total);
      view.setUint32(4, headers);
      view.setUint32(8, crc32(bytes, 0, 8));
      return bytes;
    };
    expect(decode([prelude(MAX_MESSAGE_BYTES + 1, 0)]).decoder.failure).toBe('length');
    expect(decode([prelude(0xffffffff, 0)]).decoder.failure).toBe('length');
    expect(decode([prelude(15, 0)]).decoder.failure).toBe('length');
    expect(decode([prelude(100, 90)]).decoder.failure).toBe('length');
  });

  it('stops at a malformed headers section (an unknown type, a header past its end)', () => {
    const frame = (section: Uint8Array) => {
      const total = 16 + section.byteLength;
      const bytes = new Uint8Array(total);
      const view = new DataView(bytes.buffer);
      view.setUint32(0, total);
      view.setUint32(4, section.byteLength);
      view.setUint32(8, crc32(bytes, 0, 8));
      bytes.set(section, 12);
      view.setUint32(total - 4, crc32(bytes, 0, total - 4));
      return bytes;
    };
    expect(decode([frame(Uint8Array.of(1, 0x61, 42))]).decoder.failure).toBe('headers');
    expect(decode([frame(Uint8Array.of(1, 0x61, 7, 0, 9, 0x62))]).decoder.failure).toBe('headers');
    expect(decode([frame(Uint8Array.of(5, 0x61))]).decoder.failure).toBe('headers');
    expect(decode([frame(Uint8Array.of(1, 0x61, 7, 0, 1, 0x62))]).messages).toEqual([{ headers: { a: 'b' }, payload: new Uint8Array(0) }]);
  });

  it('says how much of a message is under way when the stream stops in the middle of one', () => {
    const third = FRAMES[0]!.byteLength + FRAMES[1]!.byteLength;
    expect(decode([STREAM.subarray(0, third)]).decoder.pending).toBe(0);
    expect(decode([STREAM.subarray(0, third + 7)]).decoder.pending).toBe(7);
    expect(decode([STREAM.subarray(0, third + 30)]).decoder.pending).toBe(30);
    expect(decode([STREAM.subarray(0, third + 5), STREAM.subarray(third + 5, third + 30)]).decoder.pending).toBe(30);
  });

  it('stays consistent when the callback throws: the next feed goes on after that message', () => {
    const seen: string[] = [];
    const decoder = createFrameDecoder((m) => {
      seen.push(m.headers[':event-type'] ?? '');
      if (seen.length === 1) throw new Error('reader failed');
    });
    expect(() => decoder.feed(concat([FRAMES[0]!, FRAMES[2]!]))).toThrow('reader failed');
    decoder.feed(event('messageStop', { stopReason: 'end_turn' }));
    expect(seen).toEqual(['messageStart', 'messageStop']);
    expect(decoder.failure).toBeUndefined();
  });
});
