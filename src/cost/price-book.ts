import { warnOnce } from '../diag.js';
import type { Usage } from '../usage.js';
import type { ModelPrice, PriceTable } from '../types.js';

/** A trailing snapshot date: `-2024-07-18`, `-20240718` or `-0613`. */
const SNAPSHOT_SUFFIX = /-(?:\d{4}-\d{2}-\d{2}|\d{8}|\d{4})$/;
const MAX_CACHED = 256;

/** Looks up model prices (the app's entries first, then the built-in table) and prices usage. */
export class PriceBook {
  readonly #table: PriceTable;
  readonly #resolved = new Map<string, ModelPrice | null>();

  constructor(table: PriceTable) {
    this.#table = table;
  }

  /** The price of `model`: exact name, else the name without its snapshot date; null if unknown. */
  priceOf(model: string): ModelPrice | null {
    const cached = this.#resolved.get(model);
    if (cached !== undefined) return cached;
    const price =
      (Object.hasOwn(this.#table, model) ? this.#table[model] : undefined) ??
      lookupFamily(this.#table, model) ??
      null;
    if (price === null) warnOnce(`price:${model}`, `no price for model "${model.slice(0, 80)}": its cost is not recorded (add it with the \`prices\` option)`);
    if (this.#resolved.size < MAX_CACHED) this.#resolved.set(model, price);
    return price;
  }

  /** USD for `usage` at `price`; cached input at its own price where the usage reports it. */
  static cost(price: ModelPrice, usage: Usage): number {
    const input = usage.input ?? 0;
    const cached = Math.min(usage.cacheRead, input);
    const output = usage.output ?? 0;
    return (
      ((input - cached) * price.input + cached * (price.cachedInput ?? price.input) + output * price.output) / 1e6
    );
  }
}

function lookupFamily(table: PriceTable, model: string): ModelPrice | undefined {
  const family = model.replace(SNAPSHOT_SUFFIX, '');
  return family !== model && Object.hasOwn(table, family) ? table[family] : undefined;
}
