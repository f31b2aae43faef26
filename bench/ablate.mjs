// `npm run bench:ablations`: what each part of inferometer costs per chunk, by taking it out. For
// each patch in ablations/ (and for none), builds the committed HEAD with that patch applied in a
// throw-away git worktree, and measures it with the CPU scenario (`run.mjs --only cpu --variants
// inferometer-sdk@7`: inferometer/sdk's MeterProvider, against the bare SDK in the same rounds).
// Each ablated build gives up a guarantee or a figure; none is a configuration anyone should run.
// Prints one table; writes nothing.
//
//   node ablate.mjs [--rounds N] [--only NAME[,...]]
import './lib/node-check.mjs'; // first: a clear message on a Node too old for what follows
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from './lib/inferometer.mjs';
import { table } from './lib/markdown.mjs';
import { ensureRepository } from './lib/setup.mjs';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const PATCHES = fileURLToPath(new URL('./ablations/', import.meta.url));

/** What each ablation takes out, and so what it gives up. */
const GIVES_UP = {
  none: 'nothing: the build as committed',
  'no-read-ahead': 'the tap reads only when the app does: a late reader gets late timestamps (no read-ahead)',
  'no-protocol-reader': 'blocks are split but not read: no output, usage, end or errors; nothing hidden',
  'no-hot-path-searches': "the chat reader's hot path only counts the output: no usage member cut out, no finish or usage chunk seen there",
  'no-gaps': 'the sink records the first output only: TTFT, but no chunk gaps',
  'tap-only': 'the tap passes the bytes on unread: no TTFT, gaps, usage; nothing hidden',
  'no-tap': 'no tap: the request ends at its headers',
};

const { values: opts } = parseArgs({ options: { rounds: { type: 'string', default: '6' }, only: { type: 'string' } } });
ensureRepository();
const names = ['none', ...readdirSync(PATCHES).filter((f) => f.endsWith('.patch')).map((f) => f.slice(0, -'.patch'.length))].filter(
  (n) => opts.only === undefined || n === 'none' || opts.only.split(',').includes(n),
);
const git = (args, cwd = ROOT) => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
const commit = git(['rev-parse', '--short', 'HEAD']);
const LABEL = 'inferometer (all defaults), MeterProvider from inferometer/sdk';

/** The row cells of the inferometer/sdk variant in run.mjs's CPU tables: paced, then flooded. */
function rowsOf(markdown) {
  return markdown
    .split('\n')
    .filter((line) => line.startsWith(`| ${LABEL} |`))
    .map((line) => line.split('|').map((c) => c.trim()));
}

const results = [];
for (const name of names) {
  const dir = mkdtempSync(path.join(tmpdir(), `inferometer-ablation-${name}-`));
  try {
    process.stderr.write(`\n${name}: worktree of ${commit}, patch, build ...\n`);
    git(['worktree', 'add', '--detach', '--force', dir, 'HEAD']);
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
    if (name !== 'none') git(['apply', path.join(PATCHES, `${name}.patch`)], dir);
    build(dir);
    const run = spawnSync(process.execPath, ['run.mjs', '--only', 'cpu', '--rounds', opts.rounds, '--dist', path.join(dir, 'dist'), '--variants', 'inferometer-sdk@7'], {
      cwd: fileURLToPath(new URL('.', import.meta.url)),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    if (run.status !== 0) throw new Error(`run.mjs exited ${run.status}`);
    const [paced, flooded] = rowsOf(run.stdout);
    if (paced === undefined || flooded === undefined) throw new Error(`no ${LABEL} rows in run.mjs's output`);
    // Cells: variant, openai, CPU us/chunk, ratio, +us/chunk, GC, bytes allocated (vs bare), wall, exported.
    results.push([name, GIVES_UP[name] ?? '', paced[5], paced[4], flooded[5], flooded[4], paced[7], paced[9]]);
  } finally {
    try {
      git(['worktree', 'remove', '--force', dir]);
    } catch {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

process.stdout.write(
  [
    `# Ablations of ${commit} (inferometer/sdk, openai 7, ${opts.rounds} rounds each; each row its own run, against the bare SDK in its own rounds)`,
    '',
    table(['ablation (bench/ablations/)', 'what it gives up', 'paced +us/chunk', 'paced ratio', 'flooded +us/chunk', 'flooded ratio', 'bytes allocated/chunk (vs bare)', 'exported'], results),
    '',
  ].join('\n'),
);
