/**
 * The Vercel AI SDK, metered: an assistant that answers with streamText, looks things up with a
 * tool (a multi-step call), and summarises with generateText, through `@ai-sdk/openai` given
 * `meteredFetch()`. The AI SDK retries above fetch (`maxRetries`); inferometer sees each retry
 * as an attempt of the request it repeats. Workloads are named in the AI SDK's own terms: the
 * call's `headers`, or a `withWorkload()` scope.
 *
 *   npm run example:ai-sdk [-- --requests N]
 *
 * Without OPENAI_API_KEY the answers come from the demo's simulated provider on 127.0.0.1 (with
 * its 429s, stalls and dropped connections); with it, from OpenAI (or OPENAI_BASE_URL). At the
 * end it prints what inferometer recorded, per workload class.
 */
import { parseArgs } from 'node:util';
import { createOpenAI } from '@ai-sdk/openai';
import { DataPointType, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { generateText, stepCountIs, streamText, tool } from 'ai';
import { meteredFetch, withWorkload } from 'inferometer';
import { inferometerViews } from 'inferometer/sdk';
import { z } from 'zod';
import { openSampleTarget } from '../demo/sample-app.ts';

const { values } = parseArgs({ options: { requests: { type: 'string', default: '12' } } });
const requests = Number(values.requests);

/** An in-memory reader: this example prints what was recorded instead of exporting it. */
class Reader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}
const reader = new Reader();
const meterProvider = new MeterProvider({ readers: [reader], views: inferometerViews() });

const target = await openSampleTarget();
const openai = createOpenAI({
  baseURL: target.client.baseURL,
  apiKey: target.client.apiKey ?? undefined,
  // The one line that meters every call this provider makes.
  fetch: meteredFetch({ meterProvider, workload: 'assistant' }),
});
const model = openai.chat(target.models.chat);

const QUESTIONS = ['What is the capital of Australia?', 'What does HTTP 429 mean?', 'Suggest a name for a grey cat.'];
const weather = tool({
  description: 'The weather in a city',
  inputSchema: z.object({ city: z.string() }),
  execute: async ({ city }) => `Sunny in ${city}`,
});

for (let i = 0; i < requests; i++) {
  try {
    if (i % 3 === 0) {
      // A chat answer, streamed; the AI SDK retries a 429 or a 5xx twice (its default).
      const result = streamText({ model, prompt: QUESTIONS[i % QUESTIONS.length]!, maxOutputTokens: 48, onError: () => {} });
      await result.text;
    } else if (i % 3 === 1) {
      // A tool call, then the answer: two requests of one call (multi-step).
      await generateText({ model, prompt: 'What is the weather in Paris?', tools: { weather }, stopWhen: stepCountIs(2), maxOutputTokens: 48 });
    } else {
      // A summary, named `batch` by a scope (the call's headers would do too:
      // `headers: { 'x-inferometer-workload': 'batch' }`).
      await withWorkload('batch', () => generateText({ model: openai.chat(target.models.batch), prompt: `Summarise report ${i}: revenue grew, costs fell.`, maxOutputTokens: 96 }));
    }
  } catch {
    // A call the AI SDK gave up on (after its retries): recorded as an error.
  }
}

// What inferometer recorded, per workload class.
const { resourceMetrics } = await reader.collect();
const metrics = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
const byClass = new Map<string, Record<string, number>>();
const row = (cls: string) => byClass.get(cls) ?? byClass.set(cls, {}).get(cls)!;
for (const m of metrics) {
  for (const p of m.dataPoints as Array<{ attributes: Record<string, unknown>; value: unknown }>) {
    const cls = String(p.attributes['workload.class']);
    if (m.descriptor.name === 'inferometer.requests') {
      const r = row(cls);
      const key = String(p.attributes['inferometer.outcome']);
      r[key] = (r[key] ?? 0) + (p.value as number);
    } else if (m.descriptor.name === 'inferometer.attempts') {
      const r = row(cls);
      r['attempts'] = (r['attempts'] ?? 0) + (p.value as number);
    } else if (m.descriptor.name === 'inferometer.time_to_first_token' && m.dataPointType === DataPointType.HISTOGRAM) {
      const v = p.value as { count: number; sum?: number };
      const r = row(cls);
      r['ttftCount'] = (r['ttftCount'] ?? 0) + v.count;
      r['ttftSum'] = (r['ttftSum'] ?? 0) + (v.sum ?? 0);
    }
  }
}
console.log(`traffic to: ${target.description}`);
console.log('workload     success  error  cancelled  attempts  mean TTFT (ms)');
for (const [cls, r] of byClass) {
  const ttft = r['ttftCount'] ? ((1000 * r['ttftSum']!) / r['ttftCount']).toFixed(0) : '-';
  console.log(`${cls.padEnd(12)} ${String(r['success'] ?? 0).padStart(7)} ${String(r['error'] ?? 0).padStart(6)} ${String(r['cancelled'] ?? 0).padStart(10)} ${String(r['attempts'] ?? 0).padStart(9)} ${ttft.padStart(15)}`);
}
await target.close();
await meterProvider.shutdown();
