import { describe, expect, it } from 'vitest';
import { keepStreamShapes, keptStreamRecord } from '../../src/fetch/kept-shapes.js';
import { anthropicMessages } from '../../src/protocols/anthropic.js';
import { openaiChat } from '../../src/protocols/openai/chat.js';

// What the kept stream must do for its objects to hold the maps a real stream's objects end up
// with (see src/fetch/kept-shapes.ts): go through the tap, the text path and the byte path (an
// event held between reads), and store fractional milliseconds in the sink, the record and the
// gap histogram. Whether V8 then keeps its optimized code is shown by the bench (bench/README).
describe('the stream whose objects are kept for the process', () => {
  it('is made by the first stream of a protocol that gives a sample, once', () => {
    keepStreamShapes(anthropicMessages);
    expect(keptStreamRecord()).toBeUndefined();
    keepStreamShapes(openaiChat);
    const record = keptStreamRecord();
    expect(record).toBeDefined();
    keepStreamShapes(openaiChat);
    expect(keptStreamRecord()).toBe(record);
  });

  it('is read to its end through the tap, every output and gap recorded, its usage read', async () => {
    keepStreamShapes(openaiChat);
    const record = keptStreamRecord()!;
    await expect.poll(() => record.outcome).toBe('success');
    expect(record.outputChunks).toBe(3);
    expect(record.gaps?.total).toBe(2);
    expect(record.usage?.output).toBe(3);
    expect(record.errorType).toBeUndefined();
  });

  it("openai chat's sample ends a read inside an event, as a flooded stream's reads do", () => {
    const reads = openaiChat.sampleReads!;
    expect(reads).toHaveLength(3);
    expect(reads[0]!.endsWith('\n\n')).toBe(true);
    expect(reads[1]!.endsWith('\n\n')).toBe(false);
    expect(reads.join('').endsWith('data: [DONE]\n\n')).toBe(true);
  });
});
