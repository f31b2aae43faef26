const LF = 10;
const CR = 13;

const isHighSurrogate = (c: number): boolean => c >= 0xd800 && c <= 0xdbff;

/**
 * Splits decoded SSE text into event blocks: the text of one event, up to and including the
 * empty line that ends it, for LF, CRLF and CR line ends and across any split of the text into
 * chunks. Blocks are handed out verbatim, so a reader can forward them unchanged (or leave one
 * out) and the app's own SSE decoder sees exactly the events it would have seen.
 *
 * Cost is linear in the text: each push looks only at its own text (the state of the line under
 * way is carried in three fields), and the pieces of a block that spans many pushes are joined
 * once, when it ends. A 16 MB event in 64 KiB reads is scanned once and copied once, where
 * re-joining the pending text on every push copied it 256 times.
 *
 * Text without CR (every OpenAI-style server) takes a fast path: one native `indexOf('\n\n')`
 * per event. Text with CR is scanned character by character; a CR ends its line at once (the
 * openai SDK's decoder does the same), so a block may end in a CR whose LF comes later.
 */
export class BlockSplitter {
  /** Text of the block under way, from earlier pushes (joined when the block ends). */
  #pieces: string[] = [];
  /** The length of #pieces' text. */
  #length = 0;
  /** How much of the block under way {@link takeAhead} handed out: whole pieces, then characters of the next. */
  #aheadPieces = 0;
  #aheadChars = 0;
  /** Characters of the block under way that {@link takeAhead} handed out. */
  #taken = 0;
  /** Pieces {@link takeAhead} searched for its marker, the length of their text, and its last characters. */
  #searchedPieces = 0;
  #searchedLength = 0;
  #searchedTail = '';
  /** Where the marker starts in the block under way; -1 while not found. */
  #marker = -1;
  /** The block under way holds some text (an empty line then ends it). */
  #open = false;
  /** No character yet on the line under way: a line end now is an empty line. */
  #atLineStart = true;
  /** The text so far ended in a CR line end: an LF that comes next belongs to it (CRLF). */
  #afterCR = false;
  /** The block under way holds a CR. */
  #hasCR = false;

  /**
   * Appends `text` and calls `blocks.block()` for every block it completes, in order; `lfOnly` says
   * the block has no CR, `taken` how many of its first characters {@link takeAhead} handed out.
   */
  push(text: string, blocks: BlockSink): void {
    let i = 0;
    if (this.#afterCR && text.charCodeAt(0) === LF) {
      // The second half of a CRLF split across pushes: the line already ended at the CR. The LF
      // stays in the text (it is forwarded), but ends no line of its own.
      i = 1;
    }
    if (text.length > 0) this.#afterCR = false;
    if (text.indexOf('\r', i) === -1) this.#pushLf(text, i, blocks);
    else this.#pushAny(text, i, blocks);
  }

  /** `text` has no CR from `i` on. */
  #pushLf(text: string, i: number, blocks: BlockSink): void {
    let start = 0;
    const n = text.length;
    // An empty line right at the start of this text ends the block of earlier pushes.
    if (this.#atLineStart && i < n && text.charCodeAt(i) === LF) {
      this.#end(text, start, i + 1, blocks, true);
      start = i + 1;
      i = start;
    }
    for (let at = text.indexOf('\n\n', i); at !== -1; at = text.indexOf('\n\n', start)) {
      // Text from `start` to the pair holds something (or the block holds earlier text): an event.
      this.#open ||= at > start;
      this.#end(text, start, at + 2, blocks, true);
      start = at + 2;
    }
    if (start < n) {
      this.#keep(start === 0 ? text : text.slice(start));
      // What is left holds no "\n\n": it is a lone LF (an empty line, no event), or text.
      if (n - start > 1 || text.charCodeAt(start) !== LF) this.#open = true;
      this.#atLineStart = text.charCodeAt(n - 1) === LF;
    }
  }

  /** Any text, a character at a time from `i`. */
  #pushAny(text: string, i: number, blocks: BlockSink): void {
    let start = 0;
    const n = text.length;
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c !== LF && c !== CR) {
        this.#atLineStart = false;
        this.#open = true;
        continue;
      }
      let end = i + 1;
      if (c === CR) {
        this.#hasCR = true;
        // A CR ends the line at once, as the app's SSE decoder sees it; an LF right after it
        // (now, or first in the next push) is part of the same line end.
        if (end === n) this.#afterCR = true;
        else if (text.charCodeAt(end) === LF) end++;
      }
      if (this.#atLineStart) {
        // An empty line: it ends the block, if there is one. An empty line with nothing before
        // it ends no event, and its text goes with the next block.
        if (this.#open) {
          this.#end(text, start, end, blocks, false);
          start = end;
        }
      } else {
        this.#atLineStart = true;
      }
      i = end - 1;
    }
    if (start < n) this.#keep(start === 0 ? text : text.slice(start));
  }

  #keep(piece: string): void {
    this.#pieces.push(piece);
    this.#length += piece.length;
  }

  /**
   * The block under way ends at `text[end]`: hand it out if it holds an event, and start anew.
   * `tailWithoutCR`: the caller knows `text` has no CR here (the LF path), so it is not searched again.
   */
  #end(text: string, start: number, end: number, blocks: BlockSink, tailWithoutCR: boolean): void {
    const pieces = this.#pieces;
    const tail = text.slice(start, end);
    const open = this.#open;
    const lfOnly = !this.#hasCR && (tailWithoutCR || tail.indexOf('\r') === -1);
    const block = pieces.length === 0 ? tail : pieces.length === 1 ? pieces[0] + tail : pieces.join('') + tail;
    const taken = this.#taken;
    this.#reset();
    this.#atLineStart = true;
    if (open) blocks.block(block, lfOnly, taken, end);
  }

  #reset(): void {
    // A new array only when the old one holds pieces (most blocks end in the push they began in).
    if (this.#pieces.length !== 0) this.#pieces = [];
    this.#length = 0;
    this.#aheadPieces = 0;
    this.#aheadChars = 0;
    this.#taken = 0;
    this.#searchedPieces = 0;
    this.#searchedLength = 0;
    this.#searchedTail = '';
    this.#marker = -1;
    this.#open = false;
    this.#hasCR = false;
  }

  /**
   * The text of the block under way that lies more than `keep` characters before its end, and
   * more than `margin` characters before the first `marker` in it, and was not taken yet ('' if
   * none). It stays in the block (a reader still reads the block whole when it ends); the block
   * is then handed out with how much of it was taken. Each character is taken at most once and
   * searched at most twice, so a long block costs linear time here too. `keep` must be at least
   * `margin` plus the marker's length, so that a marker still arriving is never taken ahead.
   */
  takeAhead(keep: number, marker: string, margin: number): string {
    let upTo = this.#length - keep;
    if (upTo <= this.#taken) return '';
    const at = this.#find(marker);
    if (at !== -1) upTo = Math.min(upTo, at - margin);
    if (upTo <= this.#taken) return '';
    let text = '';
    const pieces = this.#pieces;
    while (this.#taken < upTo) {
      const piece = pieces[this.#aheadPieces]!;
      let end = Math.min(piece.length, this.#aheadChars + (upTo - this.#taken));
      // Never between the two halves of a surrogate pair (an emoji): text taken is encoded on
      // its own, and half a pair would reach the app as U+FFFD. (A piece, decoded from whole
      // UTF-8 sequences, never ends in half a pair.)
      if (end < piece.length && isHighSurrogate(piece.charCodeAt(end - 1))) end--;
      if (end <= this.#aheadChars) break;
      text += this.#aheadChars === 0 && end === piece.length ? piece : piece.slice(this.#aheadChars, end);
      this.#taken += end - this.#aheadChars;
      if (end === piece.length) {
        this.#aheadPieces++;
        this.#aheadChars = 0;
      } else {
        this.#aheadChars = end;
      }
    }
    return text;
  }

  /** Where `marker` first starts in the block under way (searching only pieces not searched yet), or -1. */
  #find(marker: string): number {
    if (this.#marker !== -1) return this.#marker;
    const pieces = this.#pieces;
    if (this.#searchedPieces === pieces.length) return -1;
    const fresh = pieces.length - this.#searchedPieces === 1 ? pieces[this.#searchedPieces]! : pieces.slice(this.#searchedPieces).join('');
    const text = this.#searchedTail + fresh;
    const found = text.indexOf(marker);
    const textStart = this.#searchedLength - this.#searchedTail.length;
    this.#searchedPieces = pieces.length;
    this.#searchedLength += fresh.length;
    this.#searchedTail = text.slice(Math.max(0, text.length - (marker.length - 1)));
    if (found !== -1) this.#marker = textStart + found;
    return this.#marker;
  }

  /**
   * Text held as the head of the next block that belongs to no event (the LF of a CRLF that
   * ended the last block, empty lines between events): taken out, to be handed on at once, since
   * the app's decoder may need it to see the last event end. '' if the block under way has begun.
   */
  takeIdle(): string {
    if (this.#open || this.#length === 0 || this.#taken > 0) return '';
    const text = this.#pieces.length === 1 ? this.#pieces[0]! : this.#pieces.join('');
    const { atLineStart, afterCR } = { atLineStart: this.#atLineStart, afterCR: this.#afterCR };
    this.#reset();
    this.#atLineStart = atLineStart;
    this.#afterCR = afterCR;
    return text;
  }

  /** How many characters the splitter holds (of the block under way, or line ends between blocks). */
  get pending(): number {
    return this.#length;
  }

  /**
   * Nothing held and no CR line end to finish: the next text starts a block afresh, as a reader
   * that finds blocks in bytes sees it.
   */
  get idle(): boolean {
    return this.#length === 0 && !this.#afterCR;
  }

  /** How many characters of the block under way {@link takeAhead} handed out. */
  get taken(): number {
    return this.#taken;
  }

  /** The text of an event the stream ended in the middle of ('' if none); resets the splitter. */
  flush(): string {
    const rest = this.#pieces.join('');
    this.#reset();
    this.#atLineStart = true;
    this.#afterCR = false;
    return rest;
  }
}

/** Takes each complete block (see {@link BlockSplitter.push}). */
export interface BlockSink {
  /** `end`: where the block ends in the text of the push that completed it (just past its last character). */
  block(block: string, lfOnly: boolean, taken: number, end: number): void;
}
