// How each variant is set up, in a fresh client process: the bare openai SDK, inferometer with
// every default (also a baseline build of it, side by side), the bare @anthropic-ai/sdk and
// inferometer on it, and each peer the way its README says, every one with in-memory OpenTelemetry
// exporters/readers (nothing leaves the process). The peers patch `openai` through require hooks,
// so the instrumentation is registered first and `openai` is required (CommonJS) after it.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { AggregationTemporality, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { consume, consumeMessages } from './app.mjs';
import { floorFetch } from './lib/floors.mjs';
import { loadInferometer } from './lib/inferometer.mjs';

/** A MetricReader that collects on demand (delta: each collect returns what happened since the last). */
class MemoryReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.DELTA });
  }
  async onForceFlush() {}
  async onShutdown() {}
}

/** Where the openai of each major version is installed (see openai6/package.json). */
const OPENAI_BASE = { 7: new URL('./package.json', import.meta.url), 6: new URL('./openai6/package.json', import.meta.url) };

/**
 * Every variant: label, the openai majors it runs on here (and why not on the others). `appUsage`:
 * the app itself asks for usage (`stream_options.include_usage`), compared with `bare+usage`.
 * `baseline`: loads the baseline dist (--baseline-dist), not the one under test; run.mjs puts its
 * commit in the label. `sdk: 'anthropic'`: an `@anthropic-ai/sdk` client (`majors`: that SDK's),
 * compared with `bare-anthropic`.
 */
export const VARIANTS = {
  bare: { label: 'bare openai SDK', majors: [7, 6] },
  inferometer: { label: 'inferometer (all defaults)', majors: [7, 6] },
  'inferometer-sdk': { label: 'inferometer (all defaults), MeterProvider from inferometer/sdk', majors: [7] },
  'inferometer-nousage': { label: 'inferometer (injectStreamUsage: false)', majors: [7] },
  'inferometer-baseline': { label: 'inferometer (all defaults), baseline dist', majors: [7, 6], baseline: true },
  otel: { label: '@opentelemetry/instrumentation-openai', pkg: '@opentelemetry/instrumentation-openai', majors: [6], unsupported: 'patches openai >=4.19.0 <7 only' },
  traceloop: { label: 'OpenLLMetry @traceloop/instrumentation-openai', pkg: '@traceloop/instrumentation-openai', majors: [6], unsupported: 'patches openai >=4 <7 only' },
  openinference: { label: 'OpenInference @arizeai/openinference-instrumentation-openai', pkg: '@arizeai/openinference-instrumentation-openai', majors: [7, 6] },
  openlit: { label: 'OpenLIT openlit', pkg: 'openlit', majors: [7, 6] },
  'bare+usage': { label: 'bare openai SDK, app asks for usage', majors: [7], appUsage: true },
  'openlit+usage': { label: 'OpenLIT openlit, app asks for usage', pkg: 'openlit', majors: [7], appUsage: true },
  'floor-fetch': { label: 'floor: a fetch wrapper, nothing else (lib/floors.mjs)', majors: [7] },
  'floor-tap': { label: 'floor: + a pass-through body, one timestamp per network read', majors: [7] },
  'floor-decode': { label: 'floor: + each read decoded, each event found and timed', majors: [7] },
  'floor-read': { label: 'floor: what is recorded, in the least code (read ahead, usage hidden, hot-path rules in bytes, every gap)', majors: [7] },
  'parts-reader': { label: 'parts: that floor with inferometer\'s SSE reader', majors: [7] },
  'parts-tap': { label: 'parts: + inferometer\'s tap (the request side is all that is left out)', majors: [7] },
  'bare-anthropic': { label: 'bare @anthropic-ai/sdk', majors: [1], sdk: 'anthropic' },
  'inferometer-anthropic': { label: 'inferometer (instrument(new Anthropic()))', majors: [1], sdk: 'anthropic' },
};

/** The variant a variant's ratios are taken against. */
export const referenceOf = (id) => {
  const [name, major] = id.split('@');
  const v = VARIANTS[name];
  return `${v.sdk === 'anthropic' ? 'bare-anthropic' : v.appUsage ? 'bare+usage' : 'bare'}@${major}`;
};

/**
 * The variants each scenario runs (`name@major`), full and quick. OpenLIT by default (no usage in
 * the stream) counts tokens with js-tiktoken for about 2 s of CPU per request: the CPU scenario
 * runs it once (`cpuOnce`), and compares OpenLIT over rounds with the app asking for usage.
 * `inferometer-baseline@7` joins the CPU scenario (after `inferometer@7`) when run.mjs is given a
 * baseline dist; `--variants` narrows every list.
 */
export const SCENARIO_VARIANTS = {
  cpu: {
    full: ['bare@7', 'floor-fetch@7', 'floor-tap@7', 'floor-decode@7', 'floor-read@7', 'parts-reader@7', 'parts-tap@7', 'inferometer@7', 'inferometer-sdk@7', 'inferometer-nousage@7', 'openinference@7', 'bare+usage@7', 'openlit+usage@7', 'bare@6', 'inferometer@6', 'otel@6', 'traceloop@6', 'openinference@6', 'bare-anthropic@1', 'inferometer-anthropic@1'],
    quick: ['bare@7', 'inferometer@7', 'inferometer-sdk@7', 'inferometer-nousage@7', 'openinference@7', 'bare+usage@7', 'openlit+usage@7', 'bare@6', 'inferometer@6', 'otel@6', 'traceloop@6', 'bare-anthropic@1', 'inferometer-anthropic@1'],
  },
  cpuOnce: { full: ['openlit@7'], quick: [] },
  memory: {
    full: ['bare@7', 'floor-tap@7', 'floor-decode@7', 'floor-read@7', 'inferometer@7', 'inferometer-sdk@7', 'inferometer-nousage@7', 'openinference@7', 'openlit@7', 'bare@6', 'inferometer@6', 'otel@6', 'traceloop@6', 'openinference@6'],
    quick: ['bare@7', 'inferometer@7', 'inferometer-sdk@7', 'openinference@7', 'openlit@7', 'bare@6', 'inferometer@6', 'otel@6', 'traceloop@6'],
  },
};

/** The version of an installed package, as the bench resolves it (also when `exports` hides package.json). */
export function installedVersion(pkg, major = 7) {
  let dir = path.dirname(createRequire(OPENAI_BASE[major]).resolve(pkg));
  for (;;) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      const json = JSON.parse(readFileSync(file, 'utf8'));
      if (json.name === pkg) return json.version;
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no package.json for ${pkg}`);
    dir = up;
  }
}

/**
 * Sets up variant `id` (`name@major`) in this process. Returns the OpenAI class to use, a client
 * factory, and access to everything the tool exported (metric data, finished spans).
 */
export async function setupVariant(id) {
  const [name, majorText] = id.split('@');
  const major = Number(majorText);
  const tool = name.replace(/\+usage$/, '').replace(/-(baseline|anthropic)$/, '');
  if (!VARIANTS[name]?.majors.includes(major)) throw new Error(`unknown variant ${id}`);
  const anthropic = VARIANTS[name].sdk === 'anthropic';
  const requireOpenAI = () => createRequire(OPENAI_BASE[major])('openai');
  let reader;
  let spans;
  let wrap = (client) => client;
  /** More options for the client's constructor (a floor's fetch). */
  let clientOptions = {};

  const tracing = () => {
    // What NodeTracerProvider.register() does, with the OTel JS 3.x packages: a context manager,
    // W3C propagation, a global TracerProvider; here with an in-memory exporter.
    spans = new InMemorySpanExporter();
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }));
    const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: spans })] });
    trace.setGlobalTracerProvider(provider);
    return provider;
  };
  const metering = () => {
    reader = new MemoryReader();
    const provider = new MeterProvider({ readers: [reader] });
    metrics.setGlobalMeterProvider(provider);
    return provider;
  };

  switch (tool) {
    case 'bare':
      break;
    case 'floor-fetch':
    case 'floor-tap':
    case 'floor-decode':
    case 'floor-read':
    case 'parts-reader':
    case 'parts-tap':
      // What the guarantees alone cost (lib/floors.mjs): no MeterProvider, nothing recorded.
      clientOptions = { fetch: await floorFetch(tool.startsWith('parts-') ? tool : tool.slice('floor-'.length)) };
      break;
    case 'inferometer':
    case 'inferometer-sdk':
    case 'inferometer-nousage': {
      // README: register your MeterProvider (an app's own, or inferometer/sdk's createMeterProvider,
      // which exports the chunk gaps from per-stream totals); instrument() records through the global one.
      if (name === 'inferometer-sdk') {
        reader = new MemoryReader();
        (await loadInferometer({ entry: 'sdk' })).createMeterProvider({ readers: [reader] });
      } else {
        metering();
      }
      const { instrument } = await loadInferometer({ baseline: VARIANTS[name].baseline === true });
      const options = name === 'inferometer-nousage' ? { injectStreamUsage: false } : undefined;
      wrap = (client) => instrument(client, options);
      break;
    }
    case 'otel': {
      // README: NodeSDK({ instrumentations: [new OpenAIInstrumentation()] }); NodeSDK registers a
      // global TracerProvider and MeterProvider and the instrumentations: the same, by hand.
      tracing();
      metering();
      const { registerInstrumentations } = await import('@opentelemetry/instrumentation');
      const { OpenAIInstrumentation } = await import('@opentelemetry/instrumentation-openai');
      registerInstrumentations({ instrumentations: [new OpenAIInstrumentation()] });
      break;
    }
    case 'traceloop':
    case 'openinference': {
      // README: provider.register(); registerInstrumentations({ instrumentations: [new OpenAIInstrumentation()] }).
      tracing();
      const { registerInstrumentations } = await import('@opentelemetry/instrumentation');
      const pkg = VARIANTS[tool].pkg;
      const { OpenAIInstrumentation } = await import(pkg);
      registerInstrumentations({ instrumentations: [new OpenAIInstrumentation()] });
      break;
    }
    case 'openlit': {
      // README: Openlit.init(). It reuses a registered SDK MeterProvider and LoggerProvider (ours,
      // in memory). For traces it always builds its own NodeTracerProvider (its check for an SDK
      // provider looks for the 1.x `addSpanProcessor`, which the API's proxy provider lacks), with
      // the exporters that OTEL_TRACES_EXPORTER names: `none` here, and we add an in-memory one to
      // that provider. Pricing comes from a local table: no network.
      metering();
      const openlitMain = createRequire(import.meta.url).resolve('openlit');
      const openlitRequire = createRequire(openlitMain);
      const { logs } = openlitRequire('@opentelemetry/api-logs');
      const sdkLogs = openlitRequire('@opentelemetry/sdk-logs');
      logs.setGlobalLoggerProvider(new sdkLogs.LoggerProvider({ processors: [new sdkLogs.SimpleLogRecordProcessor(new sdkLogs.InMemoryLogRecordExporter())] }));
      process.env.OTEL_TRACES_EXPORTER = 'none';
      const { Openlit } = openlitRequire(openlitMain);
      Openlit.init({
        applicationName: 'bench',
        pricingJson: { chat: { 'gpt-4o-mini': { promptPrice: 0.00015, completionPrice: 0.0006 }, 'gpt-4o-mini-2024-07-18': { promptPrice: 0.00015, completionPrice: 0.0006 } } },
      });
      const sdkTrace = openlitRequire('@opentelemetry/sdk-trace-base');
      spans = new sdkTrace.InMemorySpanExporter();
      const { default: Tracing } = openlitRequire(path.join(path.dirname(openlitMain), 'otel/tracing.js'));
      const processors = Tracing.traceProvider?._activeSpanProcessor?._spanProcessors;
      if (!Array.isArray(processors)) throw new Error('openlit: cannot find its TracerProvider to add the in-memory exporter');
      processors.push(new sdkTrace.SimpleSpanProcessor(spans));
      break;
    }
  }

  let makeClient;
  if (anthropic) {
    const mod = createRequire(OPENAI_BASE[7])('@anthropic-ai/sdk');
    const Anthropic = mod.Anthropic ?? mod.default ?? mod;
    // The SDK appends /v1/messages to its baseURL; scriptedURL() ends in /v1.
    makeClient = (baseURL) => wrap(new Anthropic({ apiKey: 'sk-ant-bench', baseURL: baseURL.replace(/\/v1$/, '') }));
  } else {
    const mod = requireOpenAI();
    const OpenAI = mod.OpenAI ?? mod.default ?? mod;
    makeClient = (baseURL) => wrap(new OpenAI({ apiKey: 'sk-bench', baseURL, ...clientOptions }));
  }
  return {
    id,
    name,
    major,
    /** Whether the app asks for usage itself (pass to consume()). */
    usage: VARIANTS[name].appUsage === true,
    /** The SDK's version, shown in the results' `openai` column (`@anthropic-ai/sdk X` for Anthropic's). */
    openaiVersion: anthropic ? `@anthropic-ai/sdk ${installedVersion('@anthropic-ai/sdk')}` : installedVersion('openai', major),
    /** A client of this variant's SDK on `baseURL` (scriptedURL()). */
    makeClient,
    /** What the app does with that client: consume() (openai) or consumeMessages() (Anthropic). */
    consume: anthropic ? consumeMessages : consume,
    /** Metric data points recorded since the last call (delta), as MetricData[]. */
    async collect() {
      if (reader === undefined) return [];
      const { resourceMetrics } = await reader.collect();
      return resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
    },
    /** Spans finished since the last call. */
    takeSpans() {
      if (spans === undefined) return [];
      const done = spans.getFinishedSpans();
      spans.reset();
      return done;
    },
  };
}
