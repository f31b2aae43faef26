// One measurement in a fresh process: sets up the variant, runs the scenario's client side, and
// prints its result as one `@@result {json}` line. Run by lib/processes.mjs, not by hand.
import { setupVariant } from './variants.mjs';

const [scenario, variant, json] = process.argv.slice(2);
if (typeof globalThis.gc !== 'function') throw new Error('run with --expose-gc');
const { child } = await import(`./${scenario}.mjs`);
const setup = await setupVariant(variant);
const result = await child(setup, JSON.parse(json));
process.stdout.write(`@@result ${JSON.stringify(result)}\n`);
process.exit(0);
