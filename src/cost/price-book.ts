import { warnOnce } from '../diag.js';
import type { Usage } from '../usage.js';
import type { ModelPrice, PriceTable } from '../types.js';

/** A resource path before the model id: `models/gemini-2.5-pro`, `publishers/google/models/gemini-2.5-pro`. */
const PATH_PREFIX = /^(?:[\w.-]+\/)*models\//;
/**
 * Gemini's version suffixes: a stable version (`gemini-2.0-flash-001`) belongs to its family; a
 * dated preview (`gemini-2.5-flash-preview-05-20`, `-preview-09-2025`) to the undated preview
 * (`gemini-2.5-flash-preview`), never to the released model, whose price may differ.
 */
const GEMINI_VERSION = /^(gemini-.+?)(?:-\d{3}|(-preview)-\d{2}-(?:\d{2}|\d{4}))$/;
/** A trailing snapshot date (`-2024-07-18`, `-20240718`, `-0613`) or a `-latest` alias. */
const SNAPSHOT_SUFFIX = /-(?:\d{4}-\d{2}-\d{2}|\d{8}|\d{4}|latest)$/;
/**
 * An Amazon Bedrock model id: an optional ARN path (`arn:aws:bedrock:…:inference-profile/`), an
 * optional geographic inference-profile prefix (`us.`, `eu.`, `apac.`, …; `global.` stays, it is
 * priced apart), `provider.model`, a version (`-v1:0`, `-v2`, `-1:0`) and a context-window variant
 * (`:200k`, `:mm`). Only an 8-digit snapshot date is removed from it: a 4-digit suffix names a
 * model of its own there (`mistral.mistral-large-2407`).
 */
const BEDROCK_ID = /^(?:arn:aws[\w-]*:bedrock:[^/]*\/)?(?:(?:us|eu|apac|jp|au|ca|us-gov)\.)?((?:global\.)?(?:anthropic|amazon|meta|mistral|cohere|ai21|deepseek|qwen|openai|writer)\.[\w.-]+?)(?:-v\d+(?::\d+)?|-\d+:\d+)?(?::\d+k|:mm)?$/;
const DATE_SUFFIX = /-\d{8}$/;
const MAX_CACHED = 256;

/** Looks up model prices (the app's entries first, then the built-in table) and prices usage. */
export class PriceBook {
  readonly #table: PriceTable;
  readonly #resolved = new Map<string, ModelPrice | null>();

  constructor(table: PriceTable) {
    this.#table = table;
  }

  /**
   * The price of `model`: its exact name, else its family ({@link familyOf}); null if unknown.
   * Resolved once per model name (up to 256 names), so the regular expressions run once.
   */
  priceOf(model: string): ModelPrice | null {
    const cached = this.#resolved.get(model);
    if (cached !== undefined) return cached;
    const family = familyOf(model);
    const price = own(this.#table, model) ?? (family === model ? undefined : own(this.#table, family)) ?? null;
    if (price === null) warnOnce(`price:${model}`, `no price for model "${model.slice(0, 80)}": its cost is not recorded (add it with the \`prices\` option)`);
    if (this.#resolved.size < MAX_CACHED) this.#resolved.set(model, price);
    return price;
  }

  /**
   * USD for `usage` at `price`: cache reads at `cachedInput`, cache writes at `cacheWrite` (both
   * default to `input`), the rest of the input at `input`, all output at `output`. A request whose
   * input exceeds `longContext.above` is priced wholly at the `longContext` prices.
   * No allocation: it runs once per finished request.
   */
  static cost(price: ModelPrice, usage: Usage): number {
    const input = usage.input ?? 0;
    const tier = price.longContext !== undefined && input > price.longContext.above ? price.longContext : price;
    // Cache counts are parts of `input`; clamp them so a provider's inconsistent report never
    // prices more input tokens than it counted.
    const read = Math.min(usage.cacheRead, input);
    const write = Math.min(usage.cacheWrite, input - read);
    const output = usage.output ?? 0;
    return (
      ((input - read - write) * tier.input +
        read * (tier.cachedInput ?? tier.input) +
        write * (tier.cacheWrite ?? tier.input) +
        output * tier.output) /
      1e6
    );
  }
}

/**
 * The price-table name a response model belongs to: without a `models/` path, then without
 * Gemini's version suffix, else without a snapshot date or `-latest`
 * (`claude-sonnet-4-5-20250929` -> `claude-sonnet-4-5`, `claude-3-5-haiku-latest` ->
 * `claude-3-5-haiku`, `models/gemini-2.0-flash-001` -> `gemini-2.0-flash`); a Bedrock model id
 * without its ARN path, region prefix, version and date (`us.anthropic.claude-sonnet-4-5-20250929-v1:0`
 * -> `anthropic.claude-sonnet-4-5`). Only affixes are removed, never a word of the name:
 * `gpt-4o-mini` stays `gpt-4o-mini`.
 */
export function familyOf(model: string): string {
  const bedrock = BEDROCK_ID.exec(model);
  if (bedrock !== null) return bedrock[1]!.replace(DATE_SUFFIX, '');
  const name = model.replace(PATH_PREFIX, '');
  const gemini = GEMINI_VERSION.exec(name);
  if (gemini !== null) return gemini[1]! + (gemini[2] ?? '');
  return name.replace(SNAPSHOT_SUFFIX, '');
}

function own(table: PriceTable, name: string): ModelPrice | undefined {
  return Object.hasOwn(table, name) ? table[name] : undefined;
}
