// `npm run bench`: builds inferometer (unless --no-build), starts the loopback server, runs every
// scenario side by side with the bare SDK and the peers, prints one document and writes it to
// RESULTS.md (a --quick or --only run writes RESULTS.quick.md / prints only).
//
//   node run.mjs [--quick] [--only cpu|memory|accuracy|recording|big-event[,...]] [--rounds N]
//                [--no-build] [--dist DIR] [--baseline-dist DIR] [--variants ID[,...]] [--warmup N]
//
// --dist DIR (or BENCH_DIST=DIR) measures the inferometer built in DIR (e.g. the dist/ of a
// worktree of an older commit) instead of building and measuring ../dist.
// --baseline-dist DIR (or BENCH_DIST_BASELINE=DIR) adds the variant inferometer-baseline@7 to the
// CPU scenario: the inferometer built in DIR, in the same rounds as the one under test, and a
// table of the one under test over it.
// --variants ID,... runs only these variants (`name@major`, see variants.mjs) in every scenario
// that has a variant list (cpu, memory); the bare references of the ones named are added.
// --warmup N: the CPU scenario's warm-up streams per process (3): with 20, the per-chunk methods
// of every variant have reached V8's optimizing tier before the measured streams (steady state).
import './lib/node-check.mjs'; // first: a clear message on a Node too old for what follows
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { build, snapshot } from './lib/inferometer.mjs';
import { pinning, runChild, startServer } from './lib/processes.mjs';
import { ensureRepository } from './lib/setup.mjs';
import { nodeMismatch, otherLoadMeter, processCpuMs, stealMeter, systemInfo } from './lib/system.mjs';
import { targets } from './lib/targets.mjs';
import { SCENARIO_VARIANTS, VARIANTS, referenceOf } from './variants.mjs';

const SCENARIOS = { cpu: 'cpu-per-chunk', memory: 'memory', accuracy: 'accuracy', recording: 'recording-cost', 'big-event': 'big-event' };

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    rounds: { type: 'string' },
    'no-build': { type: 'boolean', default: false },
    dist: { type: 'string' },
    'baseline-dist': { type: 'string' },
    variants: { type: 'string' },
    warmup: { type: 'string' },
  },
});
opts.dist ??= process.env.BENCH_DIST || undefined;
opts['baseline-dist'] ??= process.env.BENCH_DIST_BASELINE || undefined;
const only = opts.only === undefined ? Object.keys(SCENARIOS) : opts.only.split(',');
for (const name of only) if (!(name in SCENARIOS)) throw new Error(`unknown scenario ${name}; one of ${Object.keys(SCENARIOS).join(', ')}`);

const started = performance.now();
const progress = (text) => process.stderr.write(`\r\x1b[K[${((performance.now() - started) / 1000).toFixed(0).padStart(3)} s] ${text}`);
const mismatch = nodeMismatch();
if (mismatch !== undefined) process.stderr.write(`${mismatch}\n`);

ensureRepository();
if (!opts['no-build'] && opts.dist === undefined) {
  progress('building inferometer (tsup) ...');
  build();
}
const dist = snapshot(opts.dist);
const baselineDist = opts['baseline-dist'] === undefined ? undefined : snapshot(opts['baseline-dist'], { baseline: true });
const sys = systemInfo(dist, baselineDist); // the inferometer measured, as built
if (sys.baseline !== undefined) VARIANTS['inferometer-baseline'].label = `inferometer (all defaults) @ ${sys.baseline.commit || 'baseline'} (baseline)`;
if (sys.baseline !== undefined && sys.commit) VARIANTS.inferometer.label = `inferometer (all defaults) @ ${sys.commit}`;

/** The variants of a scenario: with a baseline, inferometer-baseline@7 after inferometer@7; narrowed by --variants. */
function variantsOf(scenario) {
  let ids = SCENARIO_VARIANTS[scenario][opts.quick ? 'quick' : 'full'];
  if (scenario === 'cpu' && baselineDist !== undefined) ids = ids.flatMap((id) => (id === 'inferometer@7' ? [id, 'inferometer-baseline@7'] : [id]));
  if (wanted === undefined) return ids;
  return ids.filter((id) => wanted.has(id));
}
let wanted;
if (opts.variants !== undefined) {
  const named = opts.variants.split(',');
  for (const id of named) if (!(id.split('@')[0] in VARIANTS)) throw new Error(`unknown variant ${id}; one of ${Object.keys(VARIANTS).join(', ')} (as name@major)`);
  wanted = new Set([...named, ...named.map(referenceOf)]);
}

const steal = stealMeter();
const otherLoad = otherLoadMeter();
const server = await startServer();
const ctx = {
  port: server.port,
  quick: opts.quick,
  rounds: opts.rounds === undefined ? undefined : Number(opts.rounds),
  warmup: opts.warmup === undefined ? undefined : Number(opts.warmup),
  progress,
  variants: variantsOf,
  child: (scenario, variant, args, options) => runChild(scenario, variant, args, options),
};
const results = {};
let serverCpuMs = 0;
try {
  for (const name of only) {
    const { run } = await import(`./${SCENARIOS[name]}.mjs`);
    results[name] = await run(ctx);
  }
} finally {
  serverCpuMs = processCpuMs(server.pid);
  server.stop();
}
const seconds = (performance.now() - started) / 1000;
const stolen = steal();
const others = otherLoad(serverCpuMs);
progress(`done in ${seconds.toFixed(0)} s\n`);
if (mismatch !== undefined) process.stderr.write(`${mismatch}\n`);

const doc = [
  `# inferometer benchmark${opts.quick ? ' (quick mode: fewer rounds, shorter streams; indicative only)' : ''}`,
  '',
  `Generated by \`${process.argv.length > 2 ? `node run.mjs ${process.argv.slice(2).join(' ')}` : `npm run bench${opts.quick ? ':quick' : ''}`}\` in \`bench/\` on ${sys.date}, in ${seconds.toFixed(0)} s.`,
  '',
  `- Node ${sys.node}, ${sys.os}; CPU: ${sys.cpu}; ${sys.memory}`,
  `- openai ${sys.openai[0]} (newest) and ${sys.openai[1]} (newest 6.x, for the peers that do not patch 7)`,
  `- inferometer ${sys.inferometer}${sys.baseline === undefined ? '' : `; baseline (variant inferometer-baseline): inferometer ${sys.baseline.text}`}`,
  `- @anthropic-ai/sdk ${sys.anthropic} (the Anthropic rows)`,
  `- peers: ${Object.entries(sys.peers).map(([k, v]) => `${k} ${v}`).join(', ')}`,
  `- pinning: ${pinning.enabled ? pinning.why : `none (${pinning.why})`}; CPU time stolen by the hypervisor during the run: ${stolen === undefined ? 'unknown' : `${(stolen * 100).toFixed(1)}%`}; other processes kept ${others === undefined ? 'an unknown share' : `${(others * 100).toFixed(0)}%`} of the machine busy meanwhile (noise: compare ratios within a round, and read the CIs)`,
  `- not run on openai 7: ${Object.values(VARIANTS).filter((v) => v.unsupported).map((v) => `${v.label} (${v.unsupported})`).join('; ')}; they run on openai ${sys.openai[1]}, and so do bare and inferometer for comparison`,
  '',
  results.cpu || results.memory || results.accuracy ? targets(results) : '',
  ...only.map((name) => results[name].markdown),
  '',
].join('\n');
process.stdout.write(`${doc}\n`);
const full = !opts.quick && opts.only === undefined;
if (full || opts.quick) writeFileSync(new URL(full ? './RESULTS.md' : './RESULTS.quick.md', import.meta.url), doc);
