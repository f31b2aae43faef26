const LF = 10;
const CR = 13;

/**
 * Splits decoded SSE text into event blocks: the text of one event, up to and including the
 * empty line that ends it, for LF, CRLF and CR line ends and across any split of the text into
 * chunks. Blocks are handed out verbatim, so a reader can forward them unchanged (or leave one
 * out) and the app's own SSE decoder sees exactly the events it would have seen.
 *
 * Streams without CR (every OpenAI-style server) take a fast path: one native `indexOf('\n\n')`
 * per event. Streams with CR are scanned character by character; a CR ends its line at once
 * (the openai SDK's decoder does the same), so a block may end in a CR whose LF comes later.
 */
export class BlockSplitter {
  /** Text of the block under way (not yet ended by an empty line). */
  #pending = '';
  /** Where scanning resumes in #pending, and where its current line starts. */
  #scanFrom = 0;
  #lineStart = 0;
  /** The text seen so far ended in a CR line end: an LF that comes next belongs to it (CRLF). */
  #afterCR = false;

  /**
   * Appends `text` and calls `onBlock` for every block it completes, in order; `lfOnly` says
   * the block has no CR (it came through the fast path).
   */
  push(text: string, onBlock: (block: string, lfOnly: boolean) => void): void {
    const buf = this.#pending === '' ? text : this.#pending + text;
    let start = 0;
    let scan = this.#scanFrom;
    let lineStart = this.#lineStart;
    let afterCR = this.#afterCR;
    if (afterCR && buf.charCodeAt(scan) === LF) {
      // The second half of a CRLF split across chunks: the line already ended at the CR. The LF
      // stays in the text (it is forwarded), but ends no line of its own.
      scan++;
      lineStart = scan;
    }
    afterCR = false;
    if (buf.indexOf('\r', scan) === -1) {
      // LF only: an event ends at "\n\n". Resume one back, in case the pair straddles chunks.
      let from = Math.max(0, scan - 1);
      for (let i = buf.indexOf('\n\n', from); i !== -1; i = buf.indexOf('\n\n', from)) {
        if (i > start) onBlock(buf.slice(start, i + 2), true);
        start = i + 2;
        from = start;
      }
      lineStart = buf.lastIndexOf('\n') + 1;
      if (lineStart < start) lineStart = start;
      scan = buf.length;
    } else {
      for (let j = scan; j < buf.length; j++) {
        const c = buf.charCodeAt(j);
        if (c !== LF && c !== CR) continue;
        let end = j + 1;
        if (c === CR) {
          // A CR ends the line at once, as the app's SSE decoder sees it; an LF right after it
          // (now, or first in the next chunk) is part of the same line end.
          if (j + 1 === buf.length) afterCR = true;
          else if (buf.charCodeAt(j + 1) === LF) end = j + 2;
        }
        if (j === lineStart && lineStart > start) {
          onBlock(buf.slice(start, end), false);
          start = end;
        } else if (j === lineStart) {
          start = end; // an empty line with nothing before it ends no event
        }
        lineStart = end;
        j = end - 1;
        scan = end;
      }
      if (scan < lineStart) scan = lineStart;
    }
    this.#afterCR = afterCR;
    this.#pending = buf.slice(start);
    this.#scanFrom = Math.max(0, Math.min(scan, buf.length) - start);
    this.#lineStart = Math.max(0, lineStart - start);
  }

  /** The text of an event the stream ended in the middle of ('' if none); resets the splitter. */
  flush(): string {
    const rest = this.#pending;
    this.#pending = '';
    this.#scanFrom = 0;
    this.#lineStart = 0;
    this.#afterCR = false;
    return rest;
  }
}
