import type { ModelPrice, PriceTable } from '../types.js';
import { ANTHROPIC_PRICES } from './anthropic-prices.js';

/**
 * The day of the AWS price list the built-in Bedrock prices (other than Claude's) were taken from.
 * Claude's follow the Anthropic table ({@link ANTHROPIC_PRICES}), whatever its date.
 */
export const BEDROCK_PRICES_DATE = '2025-10-01';

/**
 * Claude models for which Bedrock's in-region and geographic cross-region endpoints (`us.`,
 * `eu.`, `apac.`, `jp.`, …) cost 10% more than its global endpoint (`global.`): Sonnet 4.5,
 * Haiku 4.5, Opus 4.5 and every later model (AWS, "Global cross-Region inference", 2025). Older
 * models cost the same on every endpoint.
 */
const SAME_ON_EVERY_ENDPOINT = new Set(['claude-3-haiku', 'claude-3-5-haiku', 'claude-3-7-sonnet', 'claude-sonnet-4', 'claude-opus-4', 'claude-opus-4-1']);
/** Anthropic's aliases, which are no Bedrock model id. */
const ALIASES = new Set(['claude-opus-4-0', 'claude-sonnet-4-0']);
const REGIONAL_PREMIUM = 1.1;

const times = (price: number | undefined, factor: number) => (price === undefined ? undefined : Math.round(price * factor * 1e6) / 1e6);

function scaled(price: ModelPrice, factor: number): ModelPrice {
  const scale = (p: Omit<ModelPrice, 'longContext'>) => {
    const out: { -readonly [K in keyof ModelPrice]: ModelPrice[K] } = { input: times(p.input, factor)!, output: times(p.output, factor)! };
    if (p.cachedInput !== undefined) out.cachedInput = times(p.cachedInput, factor);
    if (p.cacheWrite !== undefined) out.cacheWrite = times(p.cacheWrite, factor);
    return out;
  };
  const out: { -readonly [K in keyof ModelPrice]: ModelPrice[K] } = scale(price);
  if (price.longContext !== undefined) out.longContext = { above: price.longContext.above, ...scale(price.longContext) };
  return out;
}

/** Claude on Bedrock: `global.anthropic.<model>` at Anthropic's prices, `anthropic.<model>` (every other endpoint) 10% above them where AWS says so. */
function claudeOnBedrock(): Record<string, ModelPrice> {
  const table: Record<string, ModelPrice> = {};
  for (const [name, price] of Object.entries(ANTHROPIC_PRICES)) {
    if (ALIASES.has(name)) continue;
    table[`global.anthropic.${name}`] = price;
    table[`anthropic.${name}`] = SAME_ON_EVERY_ENDPOINT.has(name) ? price : scaled(price, REGIONAL_PREMIUM);
  }
  return table;
}

/** Amazon Nova: cache reads 75% off, cache writes at the input price. */
const nova = (input: number, output: number): ModelPrice => ({ input, output, cachedInput: input / 4 });

/**
 * Amazon Bedrock's on-demand prices (USD per million tokens, standard tier, US East (N. Virginia))
 * from AWS's price list (aws.amazon.com/bedrock/pricing) as of {@link BEDROCK_PRICES_DATE}, for
 * the model families most used on Bedrock. Check them against that page; correct them, or add
 * a model or a region's price, with the `prices` option. Not included: batch (50% off), latency-
 * optimized and priority tiers, provisioned throughput, and other regions' prices.
 *
 * Names are families of Bedrock model ids: a request's model id (`modelId`) is looked up without
 * its ARN path, its geographic inference-profile prefix (`us.`, `eu.`, `apac.`, …; `global.` is
 * kept, Claude is priced apart there), its version (`-v1:0`) and its snapshot date:
 * `us.anthropic.claude-sonnet-4-5-20250929-v1:0` -> `anthropic.claude-sonnet-4-5`.
 */
export const BEDROCK_PRICES: PriceTable = Object.freeze({
  ...claudeOnBedrock(),
  'amazon.nova-micro': nova(0.035, 0.14),
  'amazon.nova-lite': nova(0.06, 0.24),
  'amazon.nova-pro': nova(0.8, 3.2),
  'amazon.nova-premier': nova(2.5, 12.5),
  'meta.llama4-maverick-17b-instruct': { input: 0.24, output: 0.97 },
  'meta.llama4-scout-17b-instruct': { input: 0.17, output: 0.66 },
  'meta.llama3-3-70b-instruct': { input: 0.72, output: 0.72 },
  'meta.llama3-2-90b-instruct': { input: 0.72, output: 0.72 },
  'meta.llama3-2-11b-instruct': { input: 0.16, output: 0.16 },
  'meta.llama3-2-3b-instruct': { input: 0.15, output: 0.15 },
  'meta.llama3-2-1b-instruct': { input: 0.1, output: 0.1 },
  'meta.llama3-1-405b-instruct': { input: 2.4, output: 2.4 },
  'meta.llama3-1-70b-instruct': { input: 0.72, output: 0.72 },
  'meta.llama3-1-8b-instruct': { input: 0.22, output: 0.22 },
  'meta.llama3-70b-instruct': { input: 2.65, output: 3.5 },
  'meta.llama3-8b-instruct': { input: 0.3, output: 0.6 },
  'mistral.pixtral-large-2502': { input: 2, output: 6 },
  'mistral.mistral-large-2407': { input: 2, output: 6 },
  'mistral.mistral-large-2402': { input: 4, output: 12 },
  'mistral.mistral-small-2402': { input: 1, output: 3 },
  'mistral.mixtral-8x7b-instruct': { input: 0.45, output: 0.7 },
  'mistral.mistral-7b-instruct': { input: 0.15, output: 0.2 },
});
