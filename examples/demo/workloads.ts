/**
 * The demo's traffic: three workload classes running side by side through one instrumented
 * client, each named a different way inferometer supports.
 *
 * - `chat`: interactive, short streamed answers, 4 at a time. Named by the client's `workload`
 *   option (the default of every request that names no other class).
 * - `batch`: a summarisation job, longer answers, 12 at a time, patient retries. Named by
 *   `withWorkload('batch', ...)` around the whole job.
 * - `agent`: a tool-using support agent, 2-3 streamed turns per task (tool calls, then the
 *   answer), 5 tasks at a time. Named per call by the `x-inferometer-workload` header.
 */
import { withWorkload } from 'inferometer';
import type OpenAI from 'openai';
import type { ChatCompletionFunctionTool, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { REQUEST_KEY_HEADER } from './provider-script.ts';
import type { Progress, WorkloadTotals } from './progress.ts';
import { randomFor } from './random.ts';
import { streamChat } from './stream-call.ts';

/** How much of each workload to run. */
export interface Traffic {
  readonly chatAnswers: number;
  readonly batchDocuments: number;
  /** One entry per agent task: how many tools it offers (the model calls each once, then answers). */
  readonly agentTools: readonly number[];
}

export interface TrafficDeps {
  /** An instrumented client whose `workload` option is `'chat'`. */
  readonly client: OpenAI;
  readonly models: { readonly chat: string; readonly batch: string; readonly agent: string };
  /** The app aborts a stream that stays silent this long. */
  readonly idleTimeoutMs: number;
  readonly progress: Progress;
}

const CONCURRENCY = { chat: 4, batch: 12, agent: 5 } as const;
const MAX_RETRIES = { chat: 1, batch: 3, agent: 2 } as const;
const MAX_TOKENS = { chat: 48, batch: 160, agent: 96 } as const;

const QUESTIONS = [
  'What is the capital of Australia?',
  'Give me a synonym for "quick".',
  'How many minutes are there in a day?',
  'Suggest a name for a grey cat.',
  'What does HTTP 429 mean?',
  'Translate "good morning" into French.',
];

const TOOLS: readonly ChatCompletionFunctionTool[] = [
  {
    type: 'function',
    function: {
      name: 'lookup_order',
      description: 'Find an order by its id: items, status and tracking number.',
      parameters: { type: 'object', properties: { order_id: { type: 'string' } }, required: ['order_id'] },
    },
  },
  {
    type: 'function',
    function: {
      name: 'track_shipment',
      description: 'The carrier status of a tracking number.',
      parameters: { type: 'object', properties: { tracking_number: { type: 'string' } }, required: ['tracking_number'] },
    },
  },
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

/** Runs the three workloads concurrently until every job has finished (successfully or not). */
export async function runTraffic(traffic: Traffic, deps: TrafficDeps): Promise<void> {
  await Promise.all([
    runChat(traffic.chatAnswers, deps),
    // Every request started inside this scope, however deep in the job, is recorded as `batch`.
    withWorkload('batch', () => runBatch(traffic.batchDocuments, deps)),
    runAgent(traffic.agentTools, deps),
  ]);
}

async function runChat(count: number, deps: TrafficDeps): Promise<void> {
  await pool(count, CONCURRENCY.chat, async (i) => {
    const result = await streamChat(
      deps.client,
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

async function runBatch(count: number, deps: TrafficDeps): Promise<void> {
  await pool(count, CONCURRENCY.batch, async (i) => {
    const result = await streamChat(
      deps.client,
      {
        model: deps.models.batch,
        stream: true,
        max_completion_tokens: MAX_TOKENS.batch,
        messages: [
          { role: 'system', content: 'Summarise the document in one paragraph.' },
          { role: 'user', content: `Quarterly report ${i}: revenue grew, costs fell, and the support queue halved. `.repeat(8) },
        ],
      },
      { headers: { [REQUEST_KEY_HEADER]: `batch-${i}` }, maxRetries: MAX_RETRIES.batch, idleTimeoutMs: deps.idleTimeoutMs },
    );
    deps.progress.request('batch', result.outcome);
    deps.progress.job('batch');
  });
}

async function runAgent(tasks: readonly number[], deps: TrafficDeps): Promise<void> {
  await pool(tasks.length, CONCURRENCY.agent, async (task) => {
    const tools = TOOLS.slice(0, tasks[task]!);
    const messages: ChatCompletionMessageParam[] = [
      { role: 'system', content: 'You are a support agent. Use the tools, then answer the customer in two sentences.' },
      { role: 'user', content: `Where is my order A-${1000 + task}, and when will it arrive?` },
    ];
    for (let turn = 0; turn <= tools.length; turn++) {
      const result = await streamChat(
        deps.client,
        {
          model: deps.models.agent,
          stream: true,
          max_completion_tokens: MAX_TOKENS.agent,
          messages,
          tools: [...tools],
          // The last turn must answer: every tool has had its chance.
          ...(turn === tools.length ? { tool_choice: 'none' as const } : {}),
        },
        {
          // The per-call header wins over the client's `workload` option (and is never sent).
          headers: { 'x-inferometer-workload': 'agent', [REQUEST_KEY_HEADER]: `agent-${task}.${turn}` },
          maxRetries: MAX_RETRIES.agent,
          idleTimeoutMs: deps.idleTimeoutMs,
        },
      );
      deps.progress.request('agent', result.outcome);
      if (result.outcome !== 'success' || result.toolCalls.length === 0) break;
      messages.push({ role: 'assistant', content: null, tool_calls: result.toolCalls });
      for (const call of result.toolCalls) {
        messages.push({ role: 'tool', tool_call_id: call.id, content: fakeToolResult(call.function.name) });
      }
    }
    deps.progress.job('agent');
  });
}

/** What the agent's tools answer (the demo has no order database). */
function fakeToolResult(name: string): string {
  return name === 'lookup_order'
    ? JSON.stringify({ status: 'shipped', items: 2, tracking_number: 'TRK-20931' })
    : JSON.stringify({ carrier: 'ParcelCo', status: 'in transit', eta: 'tomorrow' });
}

/** Runs `job(0..count-1)`, at most `concurrency` at a time. */
async function pool(count: number, concurrency: number, job: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) await job(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
}
