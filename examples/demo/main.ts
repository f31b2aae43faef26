/**
 * The inferometer demo: chat, batch and agent traffic through one instrumented openai client,
 * metrics served in Prometheus format while it runs, and a per-workload scorecard computed from
 * those metrics at the end. `node examples/demo/main.ts --help` lists the options.
 */
import { writeFile } from 'node:fs/promises';
import { METRIC_REQUESTS, type Objectives, instrument } from 'inferometer';
import { MetricView } from './metric-view.ts';
import { type DemoOptions, USAGE, parseOptions } from './options.ts';
import { Progress } from './progress.ts';
import { type WorkloadScore, computeScorecard, formatNotes, formatScorecard, formatYardsticks, scorecardJson } from './scorecard.ts';
import { openTarget } from './target.ts';
import { type Telemetry, startTelemetry } from './telemetry.ts';
import { plannedRequests, planTraffic, runTraffic, totalsOf } from './workloads.ts';

/** How long to wait for the last records: a request is recorded when its body ends, asynchronously. */
const SETTLE_TIMEOUT_MS = 2000;

/**
 * Each workload against its own yardstick (goodput, `inferometer.slo.requests`). The objectives
 * sit on bucket boundaries of the histograms, so a dashboard can check them exactly.
 */
const OBJECTIVES: Readonly<Record<string, Objectives>> = {
  chat: { timeToFirstToken: 0.64, maxChunkGap: 0.32 },
  batch: { minOutputSpeed: 60, duration: 10.24 },
  agent: { timeToFirstToken: 1.28, duration: 5.12 },
};

async function main(): Promise<void> {
  let options: DemoOptions;
  try {
    options = parseOptions(process.argv.slice(2), process.env);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (options.help) {
    process.stdout.write(USAGE);
    return;
  }

  const telemetry = await startTelemetry(options.promPort);
  try {
    const startedAt = Date.now() / 1000;
    const { scores, collectedAt } = await runDemo(options, telemetry);
    if (options.json !== undefined) {
      const report = { startedAt, collectedAt, metricsUrl: telemetry.metricsUrl, objectives: OBJECTIVES, workloads: scorecardJson(scores) };
      await writeFile(options.json, `${JSON.stringify(report, null, 2)}\n`);
    }
    if (scores.every((s) => s.requests.success === 0)) {
      const hint = options.target.kind === 'real' ? 'OPENAI_API_KEY, OPENAI_BASE_URL and INFEROMETER_DEMO_MODEL' : 'the simulated provider';
      process.stderr.write(`No request succeeded: check ${hint}.\n`);
      process.exitCode = 1;
    }
    if (options.keepServing) {
      console.log(`Still serving ${telemetry.metricsUrl}; press Ctrl-C to stop.`);
      await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
    }
  } finally {
    await telemetry.shutdown();
  }
}

/**
 * Runs the traffic against the target, with progress, then prints the scorecard and returns it
 * with the time (Unix seconds) of the collection it was computed from.
 */
async function runDemo(options: DemoOptions, telemetry: Telemetry): Promise<{ scores: WorkloadScore[]; collectedAt: number }> {
  const target = await openTarget(options.target);
  const client = instrument(target.client, { meterProvider: telemetry.meterProvider, workload: 'chat', slo: OBJECTIVES });
  const seed = options.target.kind === 'simulated' ? options.target.seed : 0;
  const traffic = planTraffic(options.requests, seed);
  const totals = totalsOf(traffic);

  console.log('inferometer demo');
  console.log(`  traffic to:  ${target.description}`);
  console.log(`  workloads:   chat ${totals['chat']!.jobs} answers, batch ${totals['batch']!.jobs} documents, agent ${totals['agent']!.jobs} tasks (${plannedRequests(traffic)} requests if none fails)`);
  console.log(`  metrics:     ${telemetry.metricsUrl} (Prometheus text format)`);
  console.log('');

  const progress = new Progress(totals, process.stdout);
  progress.start();
  try {
    await runTraffic(traffic, { client, models: target.models, idleTimeoutMs: target.idleTimeoutMs, progress });
  } finally {
    progress.stop();
    await target.close();
  }

  const scores = computeScorecard(await settledMetrics(telemetry, progress.requests));
  const collectedAt = Date.now() / 1000;
  console.log('');
  console.log('Scorecard per workload class');
  console.log("  (from the collected OTel metrics alone; quantiles as Prometheus' histogram_quantile computes them)");
  console.log('');
  console.log(formatScorecard(scores));
  console.log('');
  console.log(formatNotes(scores, OBJECTIVES));
  console.log('');
  console.log('What to watch, per workload:');
  console.log(formatYardsticks(scores));
  console.log('');
  return { scores, collectedAt };
}

/** Collects until every request the app finished is recorded (or a short timeout passes). */
async function settledMetrics(telemetry: Telemetry, requests: number): Promise<MetricView> {
  const deadline = performance.now() + SETTLE_TIMEOUT_MS;
  for (;;) {
    const view = new MetricView(await telemetry.collect());
    if (view.sum(METRIC_REQUESTS) >= requests || performance.now() > deadline) return view;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

try {
  await main();
} catch (error) {
  process.stderr.write(`inferometer demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
