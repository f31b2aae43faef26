/**
 * The `agent` workload's task: a support agent that calls 1 or 2 tools, one streamed turn each,
 * then answers in a last turn. On the simulated provider it runs on Anthropic Messages through
 * `@anthropic-ai/sdk` (its long system prompt marked for prompt caching); against a real OpenAI
 * endpoint, on the openai client. Every turn is named `agent` by the per-call header.
 */
import type Anthropic from '@anthropic-ai/sdk';
import type { MessageParam, Tool } from '@anthropic-ai/sdk/resources/messages';
import type OpenAI from 'openai';
import type { ChatCompletionFunctionTool, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { streamMessage } from './anthropic-call.ts';
import { REQUEST_KEY_HEADER } from './provider-script.ts';
import { type CallOutcome, streamChat } from './stream-call.ts';

/** What an agent task needs: the client it runs on, its model, and where each turn's outcome goes. */
export interface AgentRun {
  readonly model: string;
  readonly maxTokens: number;
  readonly maxRetries: number;
  readonly idleTimeoutMs: number;
  readonly onTurn: (outcome: CallOutcome) => void;
}

const TOOLS = [
  { name: 'lookup_order', description: 'Find an order by its id: items, status and tracking number.', field: 'order_id' },
  { name: 'track_shipment', description: 'The carrier status of a tracking number.', field: 'tracking_number' },
] as const;

/**
 * The agent's instructions: about 1,400 tokens, long enough for Anthropic's prompt cache (it
 * caches no prefix under its model's minimum, 1,024 tokens or more), so turns read them from it.
 */
const SYSTEM = [
  'You are a support agent for ParcelCo. Use the tools, then answer the customer in two sentences.',
  ...Array.from({ length: 32 }, (_, i) =>
    `Policy ${i + 1}: confirm the order id before you look anything up, never promise a delivery date the carrier has not given, and offer a refund only when the parcel is lost.`,
  ),
].join('\n');

function headers(task: number, turn: number): Record<string, string> {
  // The per-call header wins over the client's `workload` option (and is never sent).
  return { 'x-inferometer-workload': 'agent', [REQUEST_KEY_HEADER]: `agent-${task}.${turn}` };
}

/** What the agent's tools answer (the demo has no order database). */
function fakeToolResult(name: string): string {
  return name === 'lookup_order'
    ? JSON.stringify({ status: 'shipped', items: 2, tracking_number: 'TRK-20931' })
    : JSON.stringify({ carrier: 'ParcelCo', status: 'in transit', eta: 'tomorrow' });
}

const question = (task: number): string => `Where is my order A-${1000 + task}, and when will it arrive?`;

/** One task on Anthropic Messages: tool_use blocks in, tool_result blocks back, then the answer. */
export async function anthropicAgentTask(client: Anthropic, task: number, toolCount: number, run: AgentRun): Promise<void> {
  const tools: Tool[] = TOOLS.slice(0, toolCount).map((t) => ({
    name: t.name,
    description: t.description,
    input_schema: { type: 'object', properties: { [t.field]: { type: 'string' } }, required: [t.field] },
  }));
  const messages: MessageParam[] = [{ role: 'user', content: question(task) }];
  for (let turn = 0; turn <= tools.length; turn++) {
    const result = await streamMessage(
      client,
      {
        model: run.model,
        max_tokens: run.maxTokens,
        stream: true,
        // Tools and system prompt are the cached prefix: the same for every turn of every task.
        system: [{ type: 'text', text: SYSTEM, cache_control: { type: 'ephemeral' } }],
        messages,
        tools,
        // The last turn must answer: every tool has had its chance.
        ...(turn === tools.length ? { tool_choice: { type: 'none' as const } } : {}),
      },
      { headers: headers(task, turn), maxRetries: run.maxRetries, idleTimeoutMs: run.idleTimeoutMs },
    );
    run.onTurn(result.outcome);
    if (result.outcome !== 'success' || result.toolUses.length === 0) return;
    messages.push({ role: 'assistant', content: result.toolUses });
    messages.push({
      role: 'user',
      content: result.toolUses.map((use) => ({ type: 'tool_result' as const, tool_use_id: use.id, content: fakeToolResult(use.name) })),
    });
  }
}

/** One task on OpenAI chat completions: tool_calls in, tool messages back, then the answer. */
export async function openAIAgentTask(client: OpenAI, task: number, toolCount: number, run: AgentRun): Promise<void> {
  const tools: ChatCompletionFunctionTool[] = TOOLS.slice(0, toolCount).map((t) => ({
    type: 'function',
    function: { name: t.name, description: t.description, parameters: { type: 'object', properties: { [t.field]: { type: 'string' } }, required: [t.field] } },
  }));
  const messages: ChatCompletionMessageParam[] = [
    { role: 'system', content: SYSTEM },
    { role: 'user', content: question(task) },
  ];
  for (let turn = 0; turn <= tools.length; turn++) {
    const result = await streamChat(
      client,
      {
        model: run.model,
        stream: true,
        max_completion_tokens: run.maxTokens,
        messages,
        tools,
        ...(turn === tools.length ? { tool_choice: 'none' as const } : {}),
      },
      { headers: headers(task, turn), maxRetries: run.maxRetries, idleTimeoutMs: run.idleTimeoutMs },
    );
    run.onTurn(result.outcome);
    if (result.outcome !== 'success' || result.toolCalls.length === 0) return;
    messages.push({ role: 'assistant', content: null, tool_calls: result.toolCalls });
    for (const call of result.toolCalls) {
      messages.push({ role: 'tool', tool_call_id: call.id, content: fakeToolResult(call.function.name) });
    }
  }
}
