import type { PriceTable } from '../types.js';
import { ANTHROPIC_PRICES, ANTHROPIC_PRICES_DATE } from './anthropic-prices.js';
import { BEDROCK_PRICES, BEDROCK_PRICES_DATE } from './bedrock-prices.js';
import { GEMINI_PRICES, GEMINI_PRICES_DATE } from './gemini-prices.js';
import { OPENAI_PRICES, OPENAI_PRICES_DATE } from './openai-prices.js';

/**
 * The built-in prices (USD per million tokens, standard tier): OpenAI's, Anthropic's, Gemini's and
 * Amazon Bedrock's tables, which share no model name. Prices change: pass `prices` to
 * `instrument()` to correct or extend them; your entries win. Each table is dated:
 * `OPENAI_PRICES_DATE`, `ANTHROPIC_PRICES_DATE`, `GEMINI_PRICES_DATE`, `BEDROCK_PRICES_DATE`.
 */
export const DEFAULT_PRICES: PriceTable = Object.freeze({ ...OPENAI_PRICES, ...ANTHROPIC_PRICES, ...GEMINI_PRICES, ...BEDROCK_PRICES });

/** The oldest of the built-in tables' dates: no built-in price was checked before this day. */
export const DEFAULT_PRICES_DATE: string = [OPENAI_PRICES_DATE, ANTHROPIC_PRICES_DATE, GEMINI_PRICES_DATE, BEDROCK_PRICES_DATE].sort()[0]!;
