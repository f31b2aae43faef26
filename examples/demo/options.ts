/**
 * The demo's command line and environment.
 */
import { parseArgs } from 'node:util';

/** The --help text. */
export const USAGE = `Usage: node examples/demo/main.ts [options]

Runs interactive chat, batch and tool-using agent traffic through inferometer-metered openai,
Anthropic and Gemini clients (the simulated provider speaks all three APIs) and prints a scorecard
per workload, and per workload and provider, computed from the OpenTelemetry metrics.

Options:
  --requests N      about how many requests to make (default 300; 12 against a real provider)
  --seed N          seed of the simulated provider's behaviour (default 42)
  --fast            shrink every simulated time 4x (also: INFEROMETER_DEMO_FAST=1)
  --prom-port N     port of the Prometheus endpoint on 127.0.0.1 (default 9464; 0 = any free port)
  --keep-serving    keep serving /metrics after the scorecard, until Ctrl-C
  --json FILE       also write the scorecard's numbers to FILE as JSON
  -h, --help        show this help

Environment:
  OPENAI_API_KEY           run every workload against the real OpenAI-compatible provider instead
  OPENAI_BASE_URL          an OpenAI-compatible endpoint to use with OPENAI_API_KEY
  INFEROMETER_DEMO_MODEL   the model to use with OPENAI_API_KEY (default gpt-4o-mini)
`;

/** Where the traffic goes: the embedded simulated provider, or a real one. */
export type Target =
  | { readonly kind: 'simulated'; readonly seed: number; readonly timeScale: number }
  | { readonly kind: 'real'; readonly model: string };

/** The demo's options, validated. */
export interface DemoOptions {
  readonly help: boolean;
  readonly requests: number;
  readonly promPort: number;
  readonly keepServing: boolean;
  /** Where to write the scorecard as JSON, if anywhere. */
  readonly json: string | undefined;
  readonly target: Target;
}

const FAST_TIME_SCALE = 0.25;

/**
 * Reads the options from `argv` (without the node and script paths) and `env`.
 * @throws Error with a message for the user when an option is invalid
 */
export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv): DemoOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      requests: { type: 'string' },
      seed: { type: 'string', default: '42' },
      fast: { type: 'boolean', default: false },
      'prom-port': { type: 'string', default: '9464' },
      'keep-serving': { type: 'boolean', default: false },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  const real = (env['OPENAI_API_KEY'] ?? '') !== '';
  const fast = values.fast || env['INFEROMETER_DEMO_FAST'] === '1';
  const target: Target = real
    ? { kind: 'real', model: env['INFEROMETER_DEMO_MODEL'] || 'gpt-4o-mini' }
    : { kind: 'simulated', seed: integer('--seed', values.seed, 0, 2 ** 32 - 1), timeScale: fast ? FAST_TIME_SCALE : 1 };
  return {
    help: values.help,
    requests: values.requests === undefined ? (real ? 12 : 300) : integer('--requests', values.requests, 1, 100_000),
    promPort: integer('--prom-port', values['prom-port'], 0, 65535),
    keepServing: values['keep-serving'],
    json: values.json === '' ? invalid('--json', 'a file name', '') : values.json,
    target,
  };
}

function invalid(name: string, expected: string, text: string): never {
  throw new Error(`${name} must be ${expected}, not "${text}"`);
}

function integer(name: string, text: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max}, not "${text}"`);
  }
  return value;
}
