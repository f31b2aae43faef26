import { execFile, execFileSync, spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';

const root = join(import.meta.dirname, '..');
const demo = join(root, 'examples', 'demo', 'main.ts');
const WORKLOADS = ['chat', 'batch', 'agent'];

/** The demo's environment: the simulated provider, whatever the developer's shell has set. */
const env = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !['OPENAI_API_KEY', 'OPENAI_BASE_URL', 'INFEROMETER_DEMO_MODEL'].includes(name)),
);

/** The demo imports the package by its name, which resolves to dist/: build it if src/ is newer. */
function ensureBuilt(): void {
  const built = statSync(join(root, 'dist', 'index.js'), { throwIfNoEntry: false })?.mtimeMs ?? 0;
  const sources = readdirSync(join(root, 'src'), { recursive: true, encoding: 'utf8' });
  const newest = Math.max(...sources.map((f) => statSync(join(root, 'src', f)).mtimeMs));
  if (built < newest) execFileSync(process.execPath, [join(root, 'node_modules', 'tsup', 'dist', 'cli-default.js'), '--silent'], { cwd: root });
}

/** The scorecard table: row label -> one cell per workload column. */
function parseTable(stdout: string): { columns: string[]; rows: Map<string, string[]> } {
  const lines = stdout.split('\n');
  const ruleAt = lines.findIndex((l) => /^ {2}-{20,}$/.test(l));
  const header = lines[ruleAt - 1]!;
  const columns = header.trim().split(/\s+/);
  // Cells are right-aligned: each column ends where its name ends in the header.
  const ends = columns.map((name) => header.indexOf(` ${name}`) + 1 + name.length);
  const rows = new Map<string, string[]>();
  for (const line of lines.slice(ruleAt + 1)) {
    if (line.trim() === '') break;
    const [, label, first] = /^\s*(.*\S)\s{2,}(\S.*)$/.exec(line.slice(0, ends[0]))!;
    rows.set(label!, [first!, ...ends.slice(1).map((end, i) => line.slice(ends[i], end).trim())]);
  }
  return { columns, rows };
}

const numbers = (cells: string[] | undefined): number[] => (cells ?? []).map((c) => Number(c.replace(/[$,]/g, '')));

describe('the demo', () => {
  beforeAll(ensureBuilt, 60_000);

  it('drives three workloads through the simulated provider and prints a plausible scorecard', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [demo, '--requests', '60', '--fast', '--prom-port', '0', '--seed', '42'], {
      cwd: root,
      env,
      timeout: 20_000,
    });

    expect(stdout).toMatch(/traffic to: +simulated OpenAI-compatible provider at http:\/\/127\.0\.0\.1:\d+\/v1/);
    expect(stdout).toMatch(/metrics: +http:\/\/127\.0\.0\.1:\d+\/metrics/);
    expect(stdout).toMatch(/jobs (\d+)\/\1 .*\(chat 21\/21 answers, batch 24\/24 docs, agent (\d+)\/\2 tasks\)/);

    const { columns, rows } = parseTable(stdout);
    expect(columns).toEqual(WORKLOADS);
    const requests = rows.get('requests  ok / error / cancelled')!.map((cell) => cell.split(' / ').map(Number));
    for (const [ok] of requests) expect(ok).toBeGreaterThan(0);
    expect(requests[0]!.reduce((a, b) => a + b)).toBe(21);
    expect(requests[1]!.reduce((a, b) => a + b)).toBe(24);
    expect(requests[0]![2]).toBeGreaterThanOrEqual(1); // the scheduled stall, aborted by the app
    expect(numbers(rows.get('error.type=stream_interrupted (%)'))[1]).toBeGreaterThan(0); // the scheduled disconnect

    const [p50, p95, p99] = ['TTFT p50 (ms)', 'TTFT p95 (ms)', 'TTFT p99 (ms)'].map((row) => numbers(rows.get(row)));
    for (let w = 0; w < WORKLOADS.length; w++) {
      expect(p50![w]).toBeGreaterThan(0);
      expect(p95![w]).toBeGreaterThanOrEqual(p50![w]!);
      expect(p99![w]).toBeGreaterThanOrEqual(p95![w]!);
    }
    expect(p50![2]).toBeGreaterThan(p50![0]!); // gpt-4o (agent) starts slower than gpt-4o-mini (chat)

    const gapP50 = numbers(rows.get('chunk gap p50 (ms)'));
    const gapP99 = numbers(rows.get('chunk gap p99 (ms)'));
    gapP50.forEach((gap, w) => {
      expect(gap).toBeGreaterThan(0);
      expect(gapP99[w]).toBeGreaterThanOrEqual(gap);
    });
    for (const speed of numbers(rows.get('output speed p50 (tokens/s)'))) expect(speed).toBeGreaterThan(10);
    for (const e2e of numbers(rows.get('end-to-end p99 (s)'))) expect(e2e).toBeGreaterThan(0);
    for (const availability of numbers(rows.get('availability (%)'))) expect(availability).toBeGreaterThan(50);
    const retries = numbers(rows.get('retries per request'));
    for (const r of retries) expect(r).toBeGreaterThanOrEqual(0);
    expect(retries[1]).toBeGreaterThan(0); // batch meets the simulated rate limits
    const cost = numbers(rows.get('cost per completed answer (USD)'));
    for (const c of cost) expect(c).toBeGreaterThan(0);
    expect(cost[2]).toBeGreaterThan(cost[0]!); // gpt-4o costs more than gpt-4o-mini

    // Under the table: per-hour figures are extrapolated, and goodput's objectives (main.ts's `slo`) per class.
    expect(stdout).toMatch(/^ {2}completed \(requests\/hour\) \[1\] /m);
    expect(stdout).toMatch(/^ {2}\[1\] extrapolated from a short run, not measured over an hour/m);
    expect(stdout).toMatch(/^ {2}goodput, met every objective \(%\) \[2\] /m);
    expect(stdout).toMatch(/^ {8}chat {3}TTFT <= 640 ms, max chunk gap <= 320 ms$/m);
    expect(stdout).toMatch(/^ {8}batch {2}output speed >= 60 tokens\/s, end-to-end <= 10\.24 s$/m);
    expect(stdout).toMatch(/^ {8}agent {2}TTFT <= 1280 ms, end-to-end <= 5\.12 s$/m);

    expect(stdout).toMatch(/^ {2}chat +TTFT p95 \d+ ms/m);
    expect(stdout).toMatch(/^ {2}batch +output speed p50 \d+ tokens\/s/m);
    expect(stdout).toMatch(/^ {2}agent +end-to-end p99 [\d.]+ s, error rate [\d.]+%/m);
  }, 20_000);

  it('keeps serving the metrics in Prometheus format with --keep-serving, and exits cleanly on Ctrl-C', async () => {
    const child = spawn(process.execPath, [demo, '--requests', '20', '--fast', '--prom-port', '0', '--keep-serving'], { cwd: root, env });
    // Whatever fails below, the demo must not outlive the test.
    onTestFinished(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    let stdout = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (data: Buffer) => {
        stdout += data.toString();
        if (stdout.includes('press Ctrl-C to stop')) resolve();
      });
      child.on('exit', () => reject(new Error(`the demo exited before serving:\n${stdout}`)));
    });
    const url = /metrics: +(http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(stdout)![1]!;
    const body = await (await fetch(url)).text();
    for (const workload of WORKLOADS) expect(body).toContain(`workload_class="${workload}"`);
    expect(body).toMatch(/^inferometer_requests_total\{/m);
    expect(body).toMatch(/^inferometer_time_to_first_token_bucket\{/m);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
  }, 20_000);
});
