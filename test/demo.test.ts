import { execFile, execFileSync, spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';

const root = join(import.meta.dirname, '..');
const demo = join(root, 'examples', 'demo', 'main.ts');
const WORKLOADS = ['chat', 'batch', 'agent'];
/** Who serves what on the simulated provider: chat on openai, batch on openai and Gemini, the agent on Anthropic. */
const PROVIDERS = ['openai', 'openai+gcp.gemini', 'anthropic'];
const SLICES = [['chat', 'openai'], ['batch', 'openai'], ['batch', 'gcp.gemini'], ['agent', 'anthropic']];
/** The models of the simulated provider, per provider: the columns of the third table. */
const MODELS = [['openai', 'gpt-4o-mini'], ['anthropic', 'claude-sonnet-4-6'], ['gcp.gemini', 'gemini-2.5-flash']];

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

/**
 * The `n`-th table of the output (0: per workload, 1: per workload and provider): header lines
 * (above the rule, one name per column each), and row label -> one cell per column.
 */
function parseTable(stdout: string, n = 0): { header: string[][]; rows: Map<string, string[]> } {
  const lines = stdout.split('\n');
  const ruleAt = lines.map((l, i) => (/^ {2}-{20,}$/.test(l) ? i : -1)).filter((i) => i >= 0)[n]!;
  let top = ruleAt;
  while (lines[top - 1]!.trim() !== '') top--;
  const heads = lines.slice(top, ruleAt);
  const header = heads.map((h) => h.trim().split(/\s+/));
  // Cells are right-aligned: each column ends where its names end in the header.
  const last = heads.at(-1)!;
  const ends: number[] = [];
  for (const name of header.at(-1)!) ends.push(last.indexOf(` ${name}`, ends.at(-1) ?? 0) + 1 + name.length);
  const rows = new Map<string, string[]>();
  for (const line of lines.slice(ruleAt + 1)) {
    if (line.trim() === '') break;
    const [, label, first] = /^\s*(.*\S)\s{2,}(\S.*)$/.exec(line.slice(0, ends[0]))!;
    rows.set(label!, [first!, ...ends.slice(1).map((end, i) => line.slice(ends[i], end).trim())]);
  }
  return { header, rows };
}

const numbers = (cells: string[] | undefined): number[] => (cells ?? []).map((c) => Number(c.replace(/[$,]/g, '')));

describe('the demo', () => {
  beforeAll(ensureBuilt, 60_000);

  it('drives three workloads over three providers through their own SDKs and prints a plausible scorecard', async () => {
    // 200 requests: enough (about 3 s at --fast) for the load to drain the simulated quotas.
    const { stdout } = await promisify(execFile)(process.execPath, [demo, '--requests', '200', '--fast', '--prom-port', '0', '--seed', '42'], {
      cwd: root,
      env,
      timeout: 20_000,
    });

    expect(stdout).toMatch(/traffic to: +simulated provider at http:\/\/127\.0\.0\.1:\d+ \(OpenAI, Anthropic and Gemini APIs; seed 42/);
    expect(stdout).toMatch(/^ {2}clients: +openai SDK \+ instrument\(\) +chat \(gpt-4o-mini\), half of batch \(gpt-4o-mini\)$/m);
    expect(stdout).toMatch(/^ +@anthropic-ai\/sdk \+ instrument\(\) +agent \(claude-sonnet-4-6\)$/m);
    expect(stdout).toMatch(/^ +@google\/genai \+ meteredFetch\(\) +the other half of batch \(gemini-2\.5-flash\)$/m);
    expect(stdout).toMatch(/metrics: +http:\/\/127\.0\.0\.1:\d+\/metrics/);
    expect(stdout).toMatch(/jobs (\d+)\/\1 .*\(chat 70\/70 answers, batch 80\/80 docs, agent (\d+)\/\2 tasks\)/);

    const { header, rows } = parseTable(stdout);
    expect(header).toEqual([WORKLOADS]);
    expect(rows.get('provider (gen_ai.provider.name)')).toEqual(PROVIDERS);
    const requests = rows.get('requests  ok / error / cancelled')!.map((cell) => cell.split(' / ').map(Number));
    for (const [ok] of requests) expect(ok).toBeGreaterThan(0);
    expect(requests[0]!.reduce((a, b) => a + b)).toBe(70);
    expect(requests[1]!.reduce((a, b) => a + b)).toBe(80);
    expect(requests[0]![2]).toBeGreaterThanOrEqual(1); // the scheduled stall, aborted by the app
    // The scheduled incidents, each in its protocol's words.
    expect(numbers(rows.get('error.type=stream_interrupted (%)'))[1]).toBeGreaterThan(0); // batch-4 (openai): connection lost mid-stream
    expect(numbers(rows.get('error.type=UNAVAILABLE (%)'))[1]).toBeGreaterThan(0); // batch-5 (Gemini): a 503 error chunk mid-stream
    expect(numbers(rows.get('error.type=overloaded_error (%)'))[2]).toBeGreaterThan(0); // agent-1.0 (Anthropic): an overloaded_error event

    const [p50, p95, p99] = ['TTFT p50 (ms)', 'TTFT p95 (ms)', 'TTFT p99 (ms)'].map((row) => numbers(rows.get(row)));
    for (let w = 0; w < WORKLOADS.length; w++) {
      expect(p50![w]).toBeGreaterThan(0);
      expect(p95![w]).toBeGreaterThanOrEqual(p50![w]!);
      expect(p99![w]).toBeGreaterThanOrEqual(p95![w]!);
    }
    expect(p50![2]).toBeGreaterThan(p50![0]!); // claude-sonnet-4-6 (agent) starts slower than gpt-4o-mini (chat)
    // Where the first token's time goes: the response headers come first, never after the first token.
    const [headersP50, headersP95] = ['time to response headers p50 (ms)', 'time to response headers p95 (ms)'].map((row) => numbers(rows.get(row)));
    for (let w = 0; w < WORKLOADS.length; w++) {
      expect(headersP50![w]).toBeGreaterThan(0);
      expect(headersP50![w]).toBeLessThanOrEqual(p50![w]!);
      expect(headersP95![w]).toBeGreaterThanOrEqual(headersP50![w]!);
    }
    // Only OpenAI reports its own processing time (openai-processing-ms): chat and batch's openai half.
    const processing = rows.get('provider processing time p50 (ms)')!;
    expect(processing[2]).toBe('-');
    for (const cell of processing.slice(0, 2)) expect(Number(cell)).toBeGreaterThan(0);

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
    expect(retries[1]).toBeGreaterThan(0); // batch's openai half retries its 5xx (and its 429s, when the quota runs out)
    const cost = numbers(rows.get('cost per completed answer (USD)'));
    for (const c of cost) expect(c).toBeGreaterThan(0);
    expect(cost[2]).toBeGreaterThan(cost[0]!); // claude-sonnet-4-6 costs more than gpt-4o-mini

    // The same measures per workload and provider: batch split in two, the others as in the main table.
    const split = parseTable(stdout, 1);
    expect(split.header).toEqual([SLICES.map(([w]) => w), SLICES.map(([, p]) => p)]);
    const parts = split.rows.get('requests  ok / error / cancelled')!.map((cell) => cell.split(' / ').map(Number));
    expect(parts[1]!.reduce((a, b) => a + b) + parts[2]!.reduce((a, b) => a + b)).toBe(80); // every other document on Gemini
    expect(parts[1]!.reduce((a, b) => a + b)).toBe(40);
    for (const [row, cells] of split.rows) {
      // chat and agent have one provider each: the same numbers as their columns of the main table.
      expect([cells[0], cells[3]], row).toEqual([rows.get(row)![0], rows.get(row)![2]]);
    }
    expect(numbers(split.rows.get('retries per request'))[2]).toBe(0); // @google/genai retries nothing by default
    const chunkGap = numbers(split.rows.get('chunk gap p50 (ms)'));
    expect(chunkGap[2]).toBeGreaterThan(chunkGap[1]! * 2); // Gemini streams fewer, larger chunks
    expect(split.rows.get('provider processing time p50 (ms)')!.map((c) => c === '-')).toEqual([false, false, true, true]);

    // Per provider and model: the headroom each quota had left at its lowest, the first 429, the provider's time.
    const quotas = parseTable(stdout, 2);
    expect(quotas.header).toEqual([MODELS.map(([p]) => p), MODELS.map(([, m]) => m)]);
    const headroom = (row: string) => quotas.rows.get(row)!;
    // OpenAI reports requests and tokens, Anthropic also input and output tokens; Gemini sends no rate-limit header.
    expect(headroom('lowest headroom, requests (%) [3]').map((c) => c === '-')).toEqual([false, false, true]);
    expect(headroom('lowest headroom, tokens (%)').map((c) => c === '-')).toEqual([false, false, true]);
    expect(headroom('lowest headroom, output tokens (%)').map((c) => c === '-')).toEqual([true, false, true]);
    for (const row of ['lowest headroom, requests (%) [3]', 'lowest headroom, tokens (%)', 'lowest headroom, input tokens (%)', 'lowest headroom, output tokens (%)']) {
      for (const cell of headroom(row).filter((c) => c !== '-')) {
        expect(Number(cell)).toBeGreaterThanOrEqual(0);
        expect(Number(cell)).toBeLessThan(100);
      }
    }
    expect(Number(headroom('lowest headroom, requests (%) [3]')[0])).toBeLessThan(50); // the load drains gpt-4o-mini's request quota
    // A 429 comes from a quota running out, so the headroom fell under 10% first (to within a 25-ms sample).
    const first429 = headroom('first 429 (s into the run)');
    const after = headroom('after headroom under 10% (s)');
    for (let m = 0; m < 2; m++) if (first429[m] !== '-') expect(Number(after[m])).toBeGreaterThanOrEqual(-0.03);
    expect(headroom('attempts answered 429').map(Number).every((n) => n >= 0)).toBe(true);
    expect(headroom('retry-after asked, p95 (ms)')[2]).toBe('-'); // Gemini's 429 says it in the body, not a header
    expect(headroom('provider processing time p50 (ms)').map((c) => c === '-')).toEqual([false, true, true]);
    for (const cell of headroom('time to response headers p50 (ms)')) expect(Number(cell)).toBeGreaterThan(0);
    // The provider's own time is within the time the client waited for its headers.
    expect(Number(headroom('provider processing time p50 (ms)')[0])).toBeLessThanOrEqual(Number(headroom('time to response headers p50 (ms)')[0]));

    // Under the table: per-hour figures are extrapolated, and goodput's objectives (main.ts's `slo`) per class.
    expect(stdout).toMatch(/^ {2}completed \(requests\/hour\) \[1\] /m);
    expect(stdout).toMatch(/^ {2}\[1\] extrapolated from a short run, not measured over an hour/m);
    expect(stdout).toMatch(/^ {2}goodput, met every objective \(%\) \[2\] /m);
    expect(stdout).toMatch(/^ {8}chat {3}TTFT <= 640 ms, max chunk gap <= 320 ms$/m);
    expect(stdout).toMatch(/^ {8}batch {2}output speed >= 60 tokens\/s, end-to-end <= 10\.24 s$/m);
    expect(stdout).toMatch(/^ {8}agent {2}TTFT <= 1280 ms, end-to-end <= 5\.12 s$/m);
    expect(stdout).toMatch(/^ {2}\[3\] the lowest inferometer\.ratelimit\.remaining \/ inferometer\.ratelimit\.limit of each quota, sampled every 25 ms/m);

    expect(stdout).toMatch(/^ {2}chat +TTFT p95 \d+ ms/m);
    expect(stdout).toMatch(/^ {2}batch +output speed p50 \d+ tokens\/s \(openai \d+, gcp\.gemini \d+\)/m);
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
    for (const provider of ['openai', 'anthropic', 'gcp.gemini']) expect(body).toContain(`gen_ai_provider_name="${provider}"`);
    expect(body).toMatch(/^inferometer_requests_total\{[^}]*gen_ai_operation_name="generate_content"/m);
    expect(body).toMatch(/^inferometer_requests_total\{/m);
    expect(body).toMatch(/^inferometer_time_to_first_token_bucket\{/m);
    expect(body).toMatch(/^inferometer_time_to_response_headers_bucket\{/m);
    // The rate-limit gauges, per provider and model (no workload class): OpenAI's and Anthropic's dialects.
    expect(body).toMatch(/^inferometer_ratelimit_remaining\{(?![^}]*workload_class)[^}]*gen_ai_provider_name="openai"[^}]*inferometer_ratelimit_resource="requests"/m);
    expect(body).toMatch(/^inferometer_ratelimit_limit\{[^}]*gen_ai_provider_name="anthropic"[^}]*inferometer_ratelimit_resource="output_tokens"/m);
    expect(body).not.toMatch(/^inferometer_ratelimit_\w+\{[^}]*gen_ai_provider_name="gcp\.gemini"/m);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
  }, 20_000);
});
