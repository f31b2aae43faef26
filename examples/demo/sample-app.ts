/**
 * The app of the export examples (examples/prometheus, examples/otlp, examples/datadog): chat
 * questions and batch summaries through one instrumented openai client, against the demo's
 * simulated provider, or a real one when OPENAI_API_KEY is set. The examples differ only in where
 * the metrics go, so the traffic lives here once.
 */
import { withWorkload } from 'inferometer';
import type OpenAI from 'openai';
import type { Objectives } from 'inferometer';
import { type CallOutcome, streamChat } from './stream-call.ts';
import { type OpenTarget, openTarget } from './target.ts';

/** Objectives of the sample app's classes, so the goodput panels have data. */
export const SAMPLE_OBJECTIVES: Readonly<Record<string, Objectives>> = {
  chat: { timeToFirstToken: 0.64, maxChunkGap: 0.32 },
  batch: { minOutputSpeed: 60, duration: 10.24 },
};

/**
 * The simulated provider (seed 42, realistic timing, random faults), or the provider named by
 * OPENAI_API_KEY / OPENAI_BASE_URL / INFEROMETER_DEMO_MODEL.
 */
export function openSampleTarget(env: NodeJS.ProcessEnv = process.env): Promise<OpenTarget> {
  const real = (env['OPENAI_API_KEY'] ?? '') !== '';
  return openTarget(real ? { kind: 'real', model: env['INFEROMETER_DEMO_MODEL'] || 'gpt-4o-mini' } : { kind: 'simulated', seed: 42, timeScale: 1 });
}

export interface SampleTrafficOptions {
  /** Stop after this many requests. @default unlimited */
  readonly requests?: number;
  /** Stop when this aborts (requests under way finish first). */
  readonly signal?: AbortSignal;
}

const QUESTIONS = ['What is the capital of Australia?', 'How many minutes are there in a day?', 'What does HTTP 429 mean?', 'Suggest a name for a grey cat.'];

/**
 * Runs chat questions (2 at a time, named by the client's `workload` option, which must be
 * `chat`) and batch summaries (4 at a time, inside `withWorkload('batch')`) until `requests`
 * are done or `signal` aborts. Never throws for a failed call.
 * @returns how the requests ended, from the app's side
 */
export async function runSampleTraffic(target: OpenTarget, client: OpenAI, options: SampleTrafficOptions = {}): Promise<Record<CallOutcome, number>> {
  const outcomes: Record<CallOutcome, number> = { success: 0, error: 0, cancelled: 0 };
  let started = 0;
  const more = (): boolean => !(options.signal?.aborted ?? false) && (options.requests === undefined || started < options.requests);
  const lane = async (job: (i: number) => Promise<CallOutcome>): Promise<void> => {
    while (more()) outcomes[await job(started++)]++;
  };
  const chat = async (i: number): Promise<CallOutcome> => {
    const result = await streamChat(
      client,
      { model: target.models.chat, stream: true, max_completion_tokens: 48, messages: [{ role: 'user', content: QUESTIONS[i % QUESTIONS.length]! }] },
      { headers: {}, maxRetries: 1, idleTimeoutMs: target.idleTimeoutMs },
    );
    return result.outcome;
  };
  const summary = async (i: number): Promise<CallOutcome> => {
    const document = `Report ${i}: revenue grew, costs fell, and the support queue halved. `.repeat(6);
    const result = await streamChat(
      client,
      { model: target.models.batch, stream: true, max_completion_tokens: 160, messages: [{ role: 'system', content: 'Summarise in one paragraph.' }, { role: 'user', content: document }] },
      { headers: {}, maxRetries: 3, idleTimeoutMs: target.idleTimeoutMs },
    );
    return result.outcome;
  };
  await Promise.all([
    lane(chat),
    lane(chat),
    // Every request started inside this scope is recorded as `batch`.
    withWorkload('batch', () => Promise.all([lane(summary), lane(summary), lane(summary), lane(summary)])),
  ]);
  return outcomes;
}
