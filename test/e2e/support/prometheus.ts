/**
 * A real Prometheus for the end-to-end tests: the binary from Debian's `prometheus` package,
 * started with a temporary configuration that scrapes the given targets on 127.0.0.1, and a
 * small client for its HTTP API. A missing binary fails the test with the command that
 * installs it: these tests never skip silently.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const INSTALL_HINT = 'sudo apt-get update && sudo apt-get install -y prometheus';

/** The Prometheus binary: $PROMETHEUS_BIN, else `prometheus` on the PATH. */
export function prometheusBinary(): string {
  const fromEnv = process.env['PROMETHEUS_BIN'];
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!existsSync(fromEnv)) throw new Error(`PROMETHEUS_BIN=${fromEnv} does not exist`);
    return fromEnv;
  }
  for (const dir of (process.env['PATH'] ?? '').split(':').concat(['/usr/bin', '/usr/local/bin'])) {
    const candidate = join(dir, 'prometheus');
    if (dir !== '' && existsSync(candidate)) return candidate;
  }
  throw new Error(
    `The end-to-end tests need a real Prometheus, and none was found on the PATH.\n` +
      `Install Debian's package (.ci/e2e.sh does this):\n  ${INSTALL_HINT}\n` +
      `or point PROMETHEUS_BIN at a prometheus binary.`,
  );
}

/** The version line of the binary, e.g. `prometheus, version 2.42.0+ds (...)`. */
export function prometheusVersion(binary: string): string {
  return execFileSync(binary, ['--version'], { encoding: 'utf8' }).split('\n')[0]!.trim();
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** One scrape target, as `/api/v1/targets` describes it. */
export interface Target {
  readonly scrapeUrl: string;
  readonly health: string;
  readonly lastError: string;
  readonly lastScrape: string;
}

/** One series of an instant query's answer. */
export interface Sample {
  readonly metric: Record<string, string>;
  readonly value: number;
}

export interface Prometheus {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** An instant query (`/api/v1/query`) at `time` (Unix seconds; default now). */
  query(expr: string, time?: number): Promise<Sample[]>;
  /** The values of a label on the series that match `selector` (`/api/v1/label/NAME/values`). */
  labelValues(label: string, selector: string): Promise<string[]>;
  /** The state of every scrape target (`/api/v1/targets`). */
  targets(): Promise<Target[]>;
  /**
   * Resolves once every target has been scraped at least once (successfully or not). Prometheus
   * hands new targets to its scrape loops in batches every 5 s, so the first scrape comes up to
   * 5 s after start: a workload started before it would lose its first seconds to rate().
   */
  firstScrape(): Promise<void>;
  /** Everything Prometheus wrote to its log so far, for failure messages. */
  log(): string;
  /** Stops Prometheus and removes its data. */
  close(): Promise<void>;
}

export interface PrometheusOptions {
  /** `host:port` of each target, scraped at `/metrics`. */
  readonly targets: readonly string[];
  /** @default '500ms' */
  readonly scrapeInterval?: string;
  /** A configuration file to use instead of the generated one (its targets are not rewritten). */
  readonly configFile?: string;
}

/** Starts Prometheus on a free port of 127.0.0.1 and waits until it is ready. */
export async function startPrometheus(options: PrometheusOptions): Promise<Prometheus> {
  const binary = prometheusBinary();
  const dir = await mkdtemp(join(tmpdir(), 'inferometer-prometheus-'));
  const interval = options.scrapeInterval ?? '500ms';
  const config = options.configFile ?? join(dir, 'prometheus.yml');
  if (options.configFile === undefined) {
    await writeFile(
      config,
      [
        'global:',
        `  scrape_interval: ${interval}`,
        `  scrape_timeout: ${interval}`,
        `  evaluation_interval: ${interval}`,
        'scrape_configs:',
        '  - job_name: inferometer',
        '    static_configs:',
        `      - targets: [${options.targets.map((t) => `'${t}'`).join(', ')}]`,
        '',
      ].join('\n'),
    );
  }
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = '';
  const child: ChildProcess = spawn(
    binary,
    [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const close = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      await close();
      throw new Error(`Prometheus exited with code ${child.exitCode}:\n${output}`);
    }
    const ready = await fetch(`${url}/-/ready`).then((r) => r.ok, () => false);
    if (ready) break;
    if (Date.now() > deadline) {
      await close();
      throw new Error(`Prometheus did not get ready within 30 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  const api = async <T>(path: string, params: Record<string, string | string[]>): Promise<T> => {
    const search = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) for (const one of [v].flat()) search.append(k, one);
    const res = await fetch(`${url}${path}?${search}`);
    const body = (await res.json()) as { status: string; data: T; error?: string; errorType?: string };
    if (body.status !== 'success') throw new Error(`Prometheus ${path} failed (${body.errorType}): ${body.error}\n  ${JSON.stringify(params)}`);
    return body.data;
  };

  return {
    url,
    async query(expr, time) {
      const data = await api<{ resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> }>(
        '/api/v1/query',
        time === undefined ? { query: expr } : { query: expr, time: String(time) },
      );
      if (data.resultType !== 'vector') throw new Error(`expected an instant vector from ${expr}, got ${data.resultType}`);
      return data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
    },
    labelValues: (label, selector) => api<string[]>(`/api/v1/label/${encodeURIComponent(label)}/values`, { 'match[]': selector }),
    async targets() {
      const data = await api<{ activeTargets: Target[] }>('/api/v1/targets', {});
      return data.activeTargets;
    },
    async firstScrape() {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const { activeTargets } = await api<{ activeTargets: Target[] }>('/api/v1/targets', {});
        // A target not scraped yet has the zero time, 0001-01-01T00:00:00Z.
        if (activeTargets.length > 0 && activeTargets.every((t) => !t.lastScrape.startsWith('0001-'))) return;
        if (Date.now() > deadline) throw new Error(`Prometheus scraped no target within 20 s: ${JSON.stringify(activeTargets)}\n${output}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    log: () => output,
    close,
  };
}
