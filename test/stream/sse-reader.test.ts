import { describe, expect, it, vi } from 'vitest';
import { openaiChat } from '../../src/protocols/openai/chat.js';
import { RequestRecord } from '../../src/record.js';
import type { BodyReader } from '../../src/stream/body-reader.js';
import { RecordSink } from '../../src/stream/record-sink.js';
import { createSseReader } from '../../src/stream/sse-reader.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (chunk: Uint8Array | null): string => (chunk === null ? '' : new TextDecoder().decode(chunk));

const chunk = (delta: string, finish: string | null = null): string =>
  `data: {"id":"c","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":${delta},"finish_reason":${finish === null ? 'null' : `"${finish}"`}}],"usage":null}\n\n`;
const ROLE = chunk('{"role":"assistant","content":""}');
const content = (i: number): string => chunk(`{"content":"w${i}"}`);
const FINISH = chunk('{}', 'stop');
const USAGE = 'data: {"id":"c","object":"chat.completion.chunk","model":"m","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}\n\n';
const DONE = 'data: [DONE]\n\n';
/** What the app asked for: the same stream without the usage inferometer asked for on its behalf. */
const hidden = (stream: string): string => stream.replaceAll(',"usage":null', '').replace(USAGE, '');

/**
 * An SSE reader of an OpenAI chat stream of a network response (its chunks its own), whose usage
 * inferometer asked for (and hides), unless `hideUsage` is false.
 */
function hidingReader(hideUsage = true): { sse: BodyReader; record: RequestRecord } {
  const record = new RequestRecord({}, true, 0, { requestFinished() {} });
  const sink = new RecordSink(record, (code) => code);
  const sse = createSseReader(record, openaiChat.events(sink, hideUsage), sink, { hideUsage, cutMarker: '"usage"', declaredEventStream: true, ownsChunks: true });
  return { sse, record };
}

/** Pushes `read`, and checks that the app gets it without the hidden usage, in the very memory read (cut in place). */
function expectCutInPlace(sse: BodyReader, read: string, at: number): void {
  const source = bytes(read);
  const handed = sse.push(source, at);
  expect(text(handed)).toBe(hidden(read));
  // The same memory as the chunk read: cut in place, not decoded, joined and encoded anew.
  expect(handed!.buffer).toBe(source.buffer);
}

describe('the SSE reader, hiding usage: a read goes on as its own bytes', () => {
  it('hands on a read holding the role chunk (read the slow way) in place, without the member', () => {
    const { sse, record } = hidingReader();
    expectCutInPlace(sse, ROLE + content(1) + content(2), 1);
    expect(record.outputChunks).toBe(2);
  });

  it('hands on a read holding the finish chunk, the usage chunk and [DONE] in place', () => {
    const { sse, record } = hidingReader();
    expect(text(sse.push(bytes(ROLE + content(1)), 1))).toBe(hidden(ROLE + content(1)));
    expectCutInPlace(sse, content(2) + FINISH + USAGE + DONE, 2);
    expect(sse.end(3)).toBeNull();
    expect(sse.complete).toBe(true);
    expect(record.outputChunks).toBe(2);
    expect(record.usage).toMatchObject({ input: 3, output: 4 });
  });

  it('gives the app exactly the hidden stream when an event spreads over three reads or more', () => {
    const stream = ROLE + content(1) + content(2) + content(3) + FINISH + USAGE + DONE;
    const expected = hidden(stream);
    for (const size of [1, 7, 40, 97, 180]) {
      const { sse, record } = hidingReader();
      let got = '';
      let at = 0;
      for (let i = 0; i < stream.length; i += size) got += text(sse.push(bytes(stream.slice(i, i + size)), ++at));
      got += text(sse.end(++at));
      expect(got, `reads of ${size} bytes`).toBe(expected);
      expect(record.outputChunks, `reads of ${size} bytes`).toBe(3);
    }
  });
});

/** {@link hidingReader}, the role chunk and a first output already read. */
function afterRole(hideUsage: boolean): { sse: BodyReader; record: RequestRecord } {
  const reader = hidingReader(hideUsage);
  reader.sse.push(bytes(ROLE + content(0)), 1);
  return reader;
}

describe('the SSE reader: a read of whole ordinary events is read in bytes', () => {
  it('cuts the member out of every event of a read in place, also around text that is not ASCII', () => {
    const { sse, record } = afterRole(true);
    // Not ASCII: the text path would have decoded, joined and encoded this read anew.
    expectCutInPlace(sse, chunk('{"content":"café"}') + chunk('{"content":"日本"}') + content(3), 2);
    expect(record.outputChunks).toBe(4);
  });

  it('hands on the very chunk read when usage is not hidden', () => {
    const { sse, record } = afterRole(false);
    const source = bytes(chunk('{"content":"é"}') + content(2));
    const decode = vi.spyOn(TextDecoder.prototype, 'decode');
    try {
      expect(sse.push(source, 2)).toBe(source);
      expect(decode, 'no text is made of the read').not.toHaveBeenCalled();
    } finally {
      decode.mockRestore();
    }
    expect(record.outputChunks).toBe(3);
  });

  it('records each read at its own arrival, one gap per event', () => {
    const { sse, record } = afterRole(true);
    sse.push(bytes(content(1) + content(2)), 5);
    sse.push(bytes(content(3)), 12);
    expect(record.outputChunks).toBe(4);
    expect(record.lastOutputAt).toBe(12);
    expect(record.gaps!.counts().reduce((a, b) => a + b)).toBe(3);
    expect(record.gaps!.max).toBe(7);
  });

  it('completes at [DONE] read in bytes', () => {
    const { sse } = afterRole(true);
    expect(text(sse.push(bytes(content(1) + DONE), 2))).toBe(hidden(content(1) + DONE));
    expect(sse.complete).toBe(true);
  });

  it('cuts a member that comes first, with the comma after it', () => {
    const { sse } = afterRole(true);
    const first = 'data: {"usage":null,"id":"c","choices":[{"index":0,"delta":{"content":"x"},"finish_reason":null}]}\n\n';
    expect(text(sse.push(bytes(first), 2))).toBe('data: {"id":"c","choices":[{"index":0,"delta":{"content":"x"},"finish_reason":null}]}\n\n');
  });

  it('reads a read as text whole when one of its events is not ordinary (finish, usage, empty line, CR)', () => {
    for (const read of [
      content(1) + FINISH + content(2),
      content(1) + USAGE + DONE,
      content(1) + '\n' + content(2),
      content(1) + content(2).replace('\n\n', '\r\n\r\n'),
      `${content(1)}: a comment\n\n`,
    ]) {
      const { sse, record } = afterRole(true);
      expect(text(sse.push(bytes(read), 2)), JSON.stringify(read)).toBe(hidden(read));
      expect(record.outputChunks, JSON.stringify(read)).toBe(read.includes('w2') ? 3 : 2);
    }
  });

});

/** Pushes `stream` in reads of `size` bytes from `at` on; returns what the app got, and whether any text was made of a read. */
function pushInReads(sse: BodyReader, stream: string, size: number, at: number): { got: string; decoded: boolean } {
  const source = bytes(stream);
  const decode = vi.spyOn(TextDecoder.prototype, 'decode');
  const handed: (Uint8Array | null)[] = [];
  let decoded = false;
  try {
    for (let i = 0; i < source.byteLength; i += size) handed.push(sse.push(source.slice(i, i + size), at++));
    decoded = decode.mock.calls.length > 0;
  } finally {
    decode.mockRestore();
  }
  return { got: handed.map(text).join(''), decoded };
}

describe('the SSE reader: reads that end inside an event (a flooded stream) are read in bytes too', () => {
  it('holds the event a read ends inside, in bytes, and reads it whole in the read where it ends', () => {
    const stream = Array.from({ length: 12 }, (_, i) => content(i + 1)).join('') + DONE;
    for (const size of [40, 97, 333, 1000]) {
      const { sse, record } = afterRole(true);
      const { got, decoded } = pushInReads(sse, stream, size, 2);
      expect(decoded, `reads of ${size} bytes: no text made of a read`).toBe(false);
      expect(got + text(sse.end(99)), `reads of ${size} bytes`).toBe(hidden(stream));
      expect(record.outputChunks, `reads of ${size} bytes`).toBe(13);
      expect(sse.complete).toBe(true);
    }
  });

  it('takes over an event under way from the text path (the first read of a flooded stream ends inside one)', () => {
    const stream = ROLE + content(1) + content(2) + content(3) + content(4);
    const { sse, record } = hidingReader();
    let got = text(sse.push(bytes(stream.slice(0, 400)), 1));
    const rest = pushInReads(sse, stream.slice(400), 150, 2);
    expect(rest.decoded, 'no text made of the reads after the first').toBe(false);
    got += rest.got + text(sse.end(9));
    expect(got).toBe(hidden(stream));
    expect(record.outputChunks).toBe(4);
  });

  it('hands the text path the event under way when the read it ends in is not ordinary, and at the end of the body', () => {
    const stream = content(1) + content(2) + FINISH + USAGE + DONE;
    for (const size of [50, 170, 260]) {
      const { sse, record } = afterRole(true);
      const { got } = pushInReads(sse, stream, size, 2);
      expect(got + text(sse.end(99)), `reads of ${size} bytes`).toBe(hidden(stream));
      expect(record.outputChunks).toBe(3);
      expect(record.usage).toMatchObject({ input: 3, output: 4 });
    }
    // A body that ends inside an event: read as ended, forwarded as it came.
    const { sse, record } = afterRole(true);
    const cut = content(1) + content(2).slice(0, -2);
    const { got } = pushInReads(sse, cut, 60, 2);
    expect(got + text(sse.end(99))).toBe(hidden(content(1) + content(2)).slice(0, -2));
    expect(record.outputChunks).toBe(3);
  });

  it('hands on the head of a long event under way before it ends, as the text path does', () => {
    const long = chunk(`{"content":"${'x'.repeat(40_000)}"}`);
    const { sse } = afterRole(true);
    const source = bytes(long + content(2));
    let before = 0;
    let got = '';
    for (let i = 0; i < source.byteLength; i += 4096) {
      const piece = text(sse.push(source.slice(i, i + 4096), 2 + i));
      if (i + 4096 < long.length) before += piece.length;
      got += piece;
    }
    expect(before, 'the head reached the app before the event ended').toBeGreaterThan(20_000);
    expect(got).toBe(hidden(long + content(2)));
  });

  it('hands on the very chunks read when usage is not hidden', () => {
    const { sse, record } = afterRole(false);
    const source = bytes(content(1) + content(2) + content(3));
    const decode = vi.spyOn(TextDecoder.prototype, 'decode');
    try {
      for (const [from, to] of [[0, 70], [70, 260], [260, source.byteLength]] as const) {
        const read = source.slice(from, to);
        expect(sse.push(read, 2 + from)).toBe(read);
      }
      expect(decode, 'no text is made of the reads').not.toHaveBeenCalled();
    } finally {
      decode.mockRestore();
    }
    expect(record.outputChunks).toBe(4);
  });
});
