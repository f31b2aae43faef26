import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BlockSplitter } from '../../src/stream/sse-blocks.js';

/** Every block the splitter hands out for `parts` pushed in order, then what flush() leaves. */
function split(parts: string[]): { blocks: string[]; lfOnly: boolean[]; rest: string } {
  const splitter = new BlockSplitter();
  const blocks: string[] = [];
  const lfOnly: boolean[] = [];
  for (const part of parts) {
    splitter.push(part, {
      block: (block, lf) => {
        blocks.push(block);
        lfOnly.push(lf);
      },
    });
  }
  return { blocks, lfOnly, rest: splitter.flush() };
}

/** The events an SSE decoder sees in a block: its lines without the empty ones. */
const lines = (text: string) => text.split(/\r\n|\r|\n/).filter((l) => l !== '');

describe('BlockSplitter', () => {
  it('hands out each event verbatim, up to and including the empty line that ends it', () => {
    const { blocks, lfOnly, rest } = split(['data: a\n\ndata: b\nid: 2\n\n: comment\n\ndata: c']);
    expect(blocks).toEqual(['data: a\n\n', 'data: b\nid: 2\n\n', ': comment\n\n']);
    expect(lfOnly).toEqual([true, true, true]);
    expect(rest).toBe('data: c');
  });

  it('ends events at CRLF and CR empty lines, and says they are not LF-only', () => {
    const { blocks, lfOnly } = split(['data: a\r\n\r\ndata: b\r\rdata: c\n\n']);
    expect(blocks).toEqual(['data: a\r\n\r\n', 'data: b\r\r', 'data: c\n\n']);
    expect(lfOnly).toEqual([false, false, true]);
  });

  it('takes an LF that follows a CR in the next push as the same line end, not an empty line', () => {
    const { blocks } = split(['data: a\r', '\ndata: b\r\n', '\r\n']);
    expect(blocks).toEqual(['data: a\r\ndata: b\r\n\r\n']);
  });

  it('ends an event whose empty line is the first character of the next push', () => {
    expect(split(['data: a\n', '\ndata: b\n', '\n']).blocks).toEqual(['data: a\n\n', 'data: b\n\n']);
  });

  it('hands out no block for empty lines with nothing before them', () => {
    const { blocks } = split(['\n\n\n', '\n', 'data: a\n\n', '\n\n']);
    expect(blocks.map(lines)).toEqual([['data: a']]);
  });

  it('keeps one event split over many pushes whole (a 4 MB event in 64 KiB pieces)', () => {
    const payload = `data: {"choices":[{"delta":{"content":"${'x'.repeat(4 * 1024 * 1024)}"}}]}\n\n`;
    const parts: string[] = [];
    for (let at = 0; at < payload.length; at += 64 * 1024) parts.push(payload.slice(at, at + 64 * 1024));
    const { blocks, rest } = split([...parts, 'data: [DONE]\n\n']);
    expect(blocks).toHaveLength(2);
    expect(blocks[0]).toBe(payload);
    expect(blocks[1]).toBe('data: [DONE]\n\n');
    expect(rest).toBe('');
  });

  it('hands out the head of a long event ahead, once, keeping back its last characters', () => {
    const splitter = new BlockSplitter();
    const event = `data: ${'y'.repeat(1000)}\n\n`;
    const blocks: Array<[string, number]> = [];
    let ahead = '';
    for (let at = 0; at < event.length; at += 97) {
      splitter.push(event.slice(at, at + 97), { block: (block, _lf, taken) => blocks.push([block, taken]) });
      const taken = splitter.takeAhead(100, '"usage"', 10);
      if (blocks.length === 0) expect(splitter.taken).toBe(ahead.length + taken.length);
      ahead += taken;
    }
    expect(blocks).toHaveLength(1);
    const [block, taken] = blocks[0]!;
    // The block is still handed out whole, with how much of it went ahead.
    expect(block).toBe(event);
    expect(taken).toBe(ahead.length);
    expect(ahead).toBe(event.slice(0, taken));
    expect(event.length - taken).toBeGreaterThanOrEqual(100);
    expect(taken).toBeGreaterThan(800);
    expect(splitter.takeAhead(0, '"usage"', 10)).toBe('');
  });

  it('takes nothing ahead from `margin` characters before a marker on, wherever the pushes cut it', () => {
    const event = `data: {"a":"${'p'.repeat(500)}","usage":null,"b":"${'q'.repeat(500)}"}\n\n`;
    const markerAt = event.indexOf('"usage"');
    for (const size of [1, 3, 7, 64, 97, 400]) {
      const splitter = new BlockSplitter();
      let ahead = '';
      let taken = -1;
      for (let at = 0; at < event.length; at += size) {
        splitter.push(event.slice(at, at + size), { block: (_block, _lf, t) => (taken = t) });
        ahead += splitter.takeAhead(30, '"usage"', 20);
      }
      expect(taken).toBe(ahead.length);
      expect(ahead).toBe(event.slice(0, ahead.length));
      expect(ahead.length).toBeLessThanOrEqual(markerAt - 20);
    }
  });

  it('never takes half of a surrogate pair ahead (an emoji would reach the app as U+FFFD)', () => {
    const event = `data: ${'😀'.repeat(300)}\n\n`;
    for (const keep of [10, 11, 12, 13]) {
      const splitter = new BlockSplitter();
      let ahead = '';
      // Pushes cut between code points, as decoded text always is.
      for (let at = 0; at < event.length; at += 38) {
        splitter.push(event.slice(at, at + 38), { block: () => {} });
        const taken = splitter.takeAhead(keep, '"usage"', 0);
        if (taken !== '') expect(taken.charCodeAt(taken.length - 1)).not.toBe(0xd83d);
        ahead += taken;
      }
      expect(new TextDecoder().decode(new TextEncoder().encode(ahead))).toBe(ahead);
    }
  });

  it('hands on at once the LF of a CRLF that ended the last block, and nothing of a block begun', () => {
    const splitter = new BlockSplitter();
    const blocks: string[] = [];
    splitter.push('data: a\r\n\r', { block: (b) => blocks.push(b) });
    expect(blocks).toEqual(['data: a\r\n\r']);
    splitter.push('\n', { block: (b) => blocks.push(b) });
    expect(splitter.takeIdle()).toBe('\n');
    splitter.push('data: b\r\n', { block: (b) => blocks.push(b) });
    expect(splitter.takeIdle()).toBe('');
    splitter.push('\r\n', { block: (b) => blocks.push(b) });
    expect(blocks).toEqual(['data: a\r\n\r', 'data: b\r\n\r\n']);
  });

  it('finds the same blocks however the text is cut into pushes', () => {
    const piece = fc.constantFrom('data: x', 'data:', 'event: e', ': c', 'id: 1', 'é', '\n', '\r', '\r\n', '\n\n');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), fc.array(fc.nat(), { maxLength: 8 }), (pieces, cuts) => {
        const text = pieces.join('');
        const at = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
        const parts: string[] = [];
        let from = 0;
        for (const cut of at) {
          parts.push(text.slice(from, cut));
          from = cut;
        }
        parts.push(text.slice(from));
        const whole = split([text]);
        const pieced = split(parts);
        expect(pieced.blocks.map(lines)).toEqual(whole.blocks.map(lines));
        expect(lines(pieced.rest)).toEqual(lines(whole.rest));
        // Nothing but empty lines is left out: every other character is in a block or the rest.
        const strip = (t: string) => t.replace(/[\r\n]/g, '');
        expect(strip(pieced.blocks.join('') + pieced.rest)).toBe(strip(text));
      }),
      { seed: 7, numRuns: 2000 },
    );
  });
});
