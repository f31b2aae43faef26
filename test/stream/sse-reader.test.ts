import { describe, expect, it } from 'vitest';
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

/** An SSE reader of an OpenAI chat stream whose usage inferometer asked for, of a network response (its chunks its own). */
function hidingReader(): { sse: BodyReader; record: RequestRecord } {
  const record = new RequestRecord({}, true, 0, { requestFinished() {} });
  const sink = new RecordSink(record, (code) => code);
  const sse = createSseReader(record, openaiChat.events(sink, true), sink, { hideUsage: true, cutMarker: '"usage"', declaredEventStream: true, ownsChunks: true });
  return { sse, record };
}

describe('the SSE reader, hiding usage: a read goes on as its own bytes', () => {
  it('hands on a read holding the role chunk (read the slow way) in place, without the member', () => {
    const { sse, record } = hidingReader();
    const read = ROLE + content(1) + content(2);
    const source = bytes(read);
    const handed = sse.push(source, 1);
    expect(text(handed)).toBe(hidden(read));
    // The same memory as the chunk read: cut in place, not decoded, joined and encoded anew.
    expect(handed!.buffer).toBe(source.buffer);
    expect(record.outputChunks).toBe(2);
  });

  it('hands on a read holding the finish chunk, the usage chunk and [DONE] in place', () => {
    const { sse, record } = hidingReader();
    expect(text(sse.push(bytes(ROLE + content(1)), 1))).toBe(hidden(ROLE + content(1)));
    const last = content(2) + FINISH + USAGE + DONE;
    const source = bytes(last);
    const handed = sse.push(source, 2);
    expect(text(handed)).toBe(hidden(last));
    expect(handed!.buffer).toBe(source.buffer);
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
