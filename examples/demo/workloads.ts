/**
 * The demo's traffic: three workload classes running side by side, each named a different way
 * inferometer supports, over three providers and their own SDKs.
 *
 * - `chat`: interactive, short streamed answers, 4 at a time, on the openai client. Named by the
 *   client's `workload` option (the default of every request that names no other class).
 * - `batch`: a summarisation job, longer answers, 12 at a time. Named by `withWorkload('batch',
 *   ...)` around the whole job. Its documents alternate between the openai client (3 retries)
 *   and, when the target has one, Gemini through `@google/genai` with `meteredFetch()` (no retries).
 * - `agent`: a tool-using support agent, 2-3 streamed turns per task (tool calls, then the
 *   answer), 5 tasks at a time, on Anthropic through `@anthropic-ai/sdk` when the target has it,
 *   else on the openai client. Named per call by the `x-inferometer-workload` header.
 */
import type Anthropic from '@anthropic-ai/sdk';
import type { GoogleGenAI } from '@google/genai';
import { withWorkload } from 'inferometer';
import type OpenAI from 'openai';
import { type AgentRun, anthropicAgentTask, openAIAgentTask } from './agent.ts';
import { streamGenerate } from './gemini-call.ts';
import { REQUEST_KEY_HEADER } from './provider-script.ts';
import type { Progress, WorkloadTotals } from './progress.ts';
import { randomFor } from './random.ts';
import { type CallOutcome, streamChat } from './stream-call.ts';

/** How much of each workload to run. */
export interface Traffic {
  readonly chatAnswers: number;
  readonly batchDocuments: number;
  /** One entry per agent task: how many tools it offers (the model calls each once, then answers). */
  readonly agentTools: readonly number[];
}

/** The instrumented clients the traffic goes through. */
export interface Clients {
  /** `instrument(openai, { workload: 'chat' })`. */
  readonly openai: OpenAI;
  /** `instrument(anthropic)`: the agent runs on it when set, else on `openai`. */
  readonly anthropic?: Anthropic;
  /** A GoogleGenAI client whose fetch is `meteredFetch()`: every other batch document goes to it when set. */
  readonly gemini?: GoogleGenAI;
}

export interface TrafficDeps {
  readonly clients: Clients;
  readonly models: { readonly chat: string; readonly batch: string; readonly agent: string; readonly gemini?: string };
  /** The app aborts a stream that stays silent this long. */
  readonly idleTimeoutMs: number;
  readonly progress: Progress;
}

const CONCURRENCY = { chat: 4, batch: 12, agent: 5 } as const;
const MAX_RETRIES = { chat: 1, batch: 3, agent: 2 } as const;
const MAX_TOKENS = { chat: 48, batch: 160, agent: 96 } as const;
/** A summary needs little thought: Gemini 2.5 Flash thinks up to this many tokens before it writes. */
const GEMINI_THINKING_BUDGET = 64;

const QUESTIONS = [
  'What is the capital of Australia?',
  'Give me a synonym for "quick".',
  'How many minutes are there in a day?',
  'Suggest a name for a grey cat.',
  'What does HTTP 429 mean?',
  'Translate "good morning" into French.',
];

/**
 * Splits a budget of about `requests` requests: 35% chat answers, 40% batch documents and 25% agent
 * requests, as tasks that offer 1 or 2 tools (2 or 3 requests each). Every workload gets at least one job.
 */
export function planTraffic(requests: number, seed: number): Traffic {
  const random = randomFor(seed, 'agent-plan');
  const agentBudget = Math.max(2, Math.round(requests * 0.25));
  const agentTools: number[] = [];
  for (let used = 0; ; ) {
    const tools = random() < 0.5 ? 1 : 2;
    if (agentTools.length > 0 && used + tools + 1 > agentBudget) break;
    agentTools.push(tools);
    used += tools + 1;
  }
  return {
    chatAnswers: Math.max(1, Math.round(requests * 0.35)),
    batchDocuments: Math.max(1, Math.round(requests * 0.4)),
    agentTools,
  };
}

/** What progress counts per workload, in its own unit. */
export function totalsOf(traffic: Traffic): WorkloadTotals {
  return {
    chat: { jobs: traffic.chatAnswers, unit: 'answers' },
    batch: { jobs: traffic.batchDocuments, unit: 'docs' },
    agent: { jobs: traffic.agentTools.length, unit: 'tasks' },
  };
}

/** The number of requests the traffic makes when nothing fails. */
export function plannedRequests(traffic: Traffic): number {
  return traffic.chatAnswers + traffic.batchDocuments + traffic.agentTools.reduce((n, tools) => n + tools + 1, 0);
}

/** Whether batch document `i` goes to Gemini: the odd ones, when there is a Gemini client. */
const onGemini = (deps: Pick<TrafficDeps, 'clients'>, i: number): boolean => deps.clients.gemini !== undefined && i % 2 === 1;

/** Runs the three workloads concurrently until every job has finished (successfully or not). */
export async function runTraffic(traffic: Traffic, deps: TrafficDeps): Promise<void> {
  await Promise.all([
    runChat(traffic.chatAnswers, deps),
    // Every request started inside this scope, however deep in the job and whatever the client, is recorded as `batch`.
    withWorkload('batch', () => runBatch(traffic.batchDocuments, deps)),
    runAgent(traffic.agentTools, deps),
  ]);
}

async function runChat(count: number, deps: TrafficDeps): Promise<void> {
  await pool(count, CONCURRENCY.chat, async (i) => {
    const result = await streamChat(
      deps.clients.openai,
      {
        model: deps.models.chat,
        stream: true,
        max_completion_tokens: MAX_TOKENS.chat,
        messages: [{ role: 'user', content: QUESTIONS[i % QUESTIONS.length]! }],
      },
      { headers: { [REQUEST_KEY_HEADER]: `chat-${i}` }, maxRetries: MAX_RETRIES.chat, idleTimeoutMs: deps.idleTimeoutMs },
    );
    deps.progress.request('chat', result.outcome);
    deps.progress.job('chat');
  });
}

const INSTRUCTION = 'Summarise the document in one paragraph.';
const documentText = (i: number): string => `Quarterly report ${i}: revenue grew, costs fell, and the support queue halved. `.repeat(8);

async function runBatch(count: number, deps: TrafficDeps): Promise<void> {
  await pool(count, CONCURRENCY.batch, async (i) => {
    const headers = { [REQUEST_KEY_HEADER]: `batch-${i}` };
    let outcome: CallOutcome;
    if (onGemini(deps, i)) {
      ({ outcome } = await streamGenerate(
        deps.clients.gemini!,
        {
          model: deps.models.gemini!,
          contents: documentText(i),
          config: { systemInstruction: INSTRUCTION, maxOutputTokens: MAX_TOKENS.batch, thinkingConfig: { thinkingBudget: GEMINI_THINKING_BUDGET } },
        },
        { headers, idleTimeoutMs: deps.idleTimeoutMs },
      ));
    } else {
      ({ outcome } = await streamChat(
        deps.clients.openai,
        {
          model: deps.models.batch,
          stream: true,
          max_completion_tokens: MAX_TOKENS.batch,
          messages: [
            { role: 'system', content: INSTRUCTION },
            { role: 'user', content: documentText(i) },
          ],
        },
        { headers, maxRetries: MAX_RETRIES.batch, idleTimeoutMs: deps.idleTimeoutMs },
      ));
    }
    deps.progress.request('batch', outcome);
    deps.progress.job('batch');
  });
}

async function runAgent(tasks: readonly number[], deps: TrafficDeps): Promise<void> {
  const run: AgentRun = {
    model: deps.models.agent,
    maxTokens: MAX_TOKENS.agent,
    maxRetries: MAX_RETRIES.agent,
    idleTimeoutMs: deps.idleTimeoutMs,
    onTurn: (outcome) => deps.progress.request('agent', outcome),
  };
  const { anthropic, openai } = deps.clients;
  await pool(tasks.length, CONCURRENCY.agent, async (task) => {
    if (anthropic !== undefined) await anthropicAgentTask(anthropic, task, tasks[task]!, run);
    else await openAIAgentTask(openai, task, tasks[task]!, run);
    deps.progress.job('agent');
  });
}

/** Runs `job(0..count-1)`, at most `concurrency` at a time. */
async function pool(count: number, concurrency: number, job: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) await job(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
}
