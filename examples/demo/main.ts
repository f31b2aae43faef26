/**
 * The inferometer demo: chat, batch and agent traffic through instrumented openai, Anthropic and
 * Gemini clients, metrics served in Prometheus format while it runs, and a per-workload scorecard
 * (split by provider too) computed from those metrics at the end. `node examples/demo/main.ts
 * --help` lists the options.
 */
import { writeFile } from 'node:fs/promises';
import { GoogleGenAI } from '@google/genai';
import { METRIC_REQUESTS, type Objectives, instrument, meteredFetch } from 'inferometer';
import { HeadroomWatch, SAMPLE_INTERVAL_MS } from './headroom.ts';
import { MetricView } from './metric-view.ts';
import { formatModelNotes, formatModelScorecard } from './model-scorecard.ts';
import { type DemoOptions, USAGE, parseOptions } from './options.ts';
import { Progress } from './progress.ts';
import { type Scorecard, computeScorecard, formatNotes, formatProviderScorecard, formatScorecard, formatYardsticks, scorecardJson } from './scorecard.ts';
import { type OpenTarget, openTarget } from './target.ts';
import { type Telemetry, startTelemetry } from './telemetry.ts';
import { type Clients, plannedRequests, planTraffic, runTraffic, totalsOf } from './workloads.ts';

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
    const { card, collectedAt, trafficStartedAt } = await runDemo(options, telemetry);
    if (options.json !== undefined) {
      const report = { startedAt, trafficStartedAt, collectedAt, metricsUrl: telemetry.metricsUrl, objectives: OBJECTIVES, ...scorecardJson(card) };
      await writeFile(options.json, `${JSON.stringify(report, null, 2)}\n`);
    }
    if (card.workloads.every((s) => s.requests.success === 0)) {
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
 * The clients the traffic goes through, each metered the way its SDK allows: the openai and
 * Anthropic clients by `instrument()` (which sees their retries), the Gemini one by handing
 * `meteredFetch()` to `@google/genai` as its fetch.
 */
function meteredClients(target: OpenTarget, telemetry: Telemetry): Clients {
  const meterProvider = telemetry.meterProvider;
  return {
    openai: instrument(target.client, { meterProvider, workload: 'chat', slo: OBJECTIVES }),
    ...(target.anthropic !== undefined ? { anthropic: instrument(target.anthropic, { meterProvider, slo: OBJECTIVES }) } : {}),
    ...(target.gemini !== undefined
      ? {
          gemini: new GoogleGenAI({
            apiKey: target.gemini.apiKey,
            // @google/genai retries nothing without `retryOptions`: a failed attempt is a failed
            // request, recorded at once rather than held open for a retry that never comes.
            httpOptions: { baseUrl: target.gemini.baseUrl, fetch: meteredFetch({ meterProvider, slo: OBJECTIVES, linkRetries: false }) },
          }),
        }
      : {}),
  };
}

/** Which SDK and inferometer entry point carries which workload, to which model. */
function routes(target: OpenTarget): string[] {
  const { models, anthropic, gemini } = target;
  const openaiLoad = [`chat (${models.chat})`, `${gemini ? 'half of ' : ''}batch (${models.batch})`, ...(anthropic ? [] : [`agent (${models.agent})`])];
  return [
    `openai SDK + instrument()           ${openaiLoad.join(', ')}`,
    ...(anthropic ? [`@anthropic-ai/sdk + instrument()    agent (${models.agent})`] : []),
    ...(gemini ? [`@google/genai + meteredFetch()      the other half of batch (${gemini.model})`] : []),
  ];
}

/**
 * Runs the traffic against the target, with progress, then prints the scorecard and returns it
 * with the times (Unix seconds) the traffic began and of the collection it was computed from.
 */
async function runDemo(options: DemoOptions, telemetry: Telemetry): Promise<{ card: Scorecard; collectedAt: number; trafficStartedAt: number }> {
  const target = await openTarget(options.target);
  const clients = meteredClients(target, telemetry);
  const seed = options.target.kind === 'simulated' ? options.target.seed : 0;
  const traffic = planTraffic(options.requests, seed);
  const totals = totalsOf(traffic);

  console.log('inferometer demo');
  console.log(`  traffic to:  ${target.description}`);
  console.log(`  workloads:   chat ${totals['chat']!.jobs} answers, batch ${totals['batch']!.jobs} documents, agent ${totals['agent']!.jobs} tasks (${plannedRequests(traffic)} requests if none fails)`);
  routes(target).forEach((line, i) => console.log(`  ${(i === 0 ? 'clients:' : '').padEnd(13)}${line}`));
  console.log(`  metrics:     ${telemetry.metricsUrl} (Prometheus text format)`);
  console.log('');

  const progress = new Progress(totals, process.stdout);
  const trafficStartedAt = Date.now() / 1000;
  // The headroom gauges hold only their last value: sampled through the run for the lowest.
  const sampleEvery = SAMPLE_INTERVAL_MS * (options.target.kind === 'simulated' ? options.target.timeScale : 1);
  const headroom = new HeadroomWatch(() => telemetry.collect(), trafficStartedAt, sampleEvery);
  progress.start();
  headroom.start();
  try {
    const models = { ...target.models, ...(target.gemini ? { gemini: target.gemini.model } : {}) };
    await runTraffic(traffic, { clients, models, idleTimeoutMs: target.idleTimeoutMs, progress });
  } finally {
    progress.stop();
    await headroom.stop();
    await target.close();
  }

  const card = computeScorecard(await settledMetrics(telemetry, progress.requests), headroom.lows(), trafficStartedAt);
  const collectedAt = Date.now() / 1000;
  console.log('');
  console.log('Scorecard per workload class');
  console.log("  (from the collected OTel metrics alone; quantiles as Prometheus' histogram_quantile computes them)");
  console.log('');
  console.log(formatScorecard(card.workloads));
  console.log('');
  console.log('The same, per workload and provider (gen_ai.provider.name)');
  console.log('');
  console.log(formatProviderScorecard(card.byProvider));
  console.log('');
  console.log("Per provider and model: rate-limit headroom, and the provider's own time (whichever workload sent the requests)");
  console.log('');
  console.log(formatModelScorecard(card.models));
  console.log('');
  console.log(formatNotes(card.workloads, OBJECTIVES));
  console.log(formatModelNotes(sampleEvery));
  console.log('');
  console.log('What to watch, per workload:');
  console.log(formatYardsticks(card));
  console.log('');
  return { card, collectedAt, trafficStartedAt };
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
