import { OTHER } from '../semconv.js';

/**
 * Bounds the distinct values of one attribute: the first `max` values seen are kept as they are,
 * every later one becomes `_OTHER`, and `onOverflow` is called once, the first time that happens.
 */
export class CappedSet {
  readonly #seen = new Set<string>();
  readonly #max: number;
  readonly #onOverflow: (value: string) => void;
  #overflowed = false;

  constructor(max: number, onOverflow: (value: string) => void) {
    this.#max = max;
    this.#onOverflow = onOverflow;
  }

  admit(value: string): string {
    if (this.#seen.has(value)) return value;
    if (this.#seen.size < this.#max) {
      this.#seen.add(value);
      return value;
    }
    if (!this.#overflowed) {
      this.#overflowed = true;
      this.#onOverflow(value);
    }
    return OTHER;
  }
}
