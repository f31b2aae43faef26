import { describe, expect, it } from 'vitest';
import { openaiChat } from '../../src/protocols/openai/chat.js';
import { openaiResponses } from '../../src/protocols/openai/responses.js';
import type { Protocol, ResponseSink } from '../../src/protocols/protocol.js';
import type { Usage } from '../../src/usage.js';

/*
 * What recordings of OpenAI-compatible providers show, pinned on the readers (no clock, no
 * socket): which chunks are output, and what usage is billed.
 */

function read(protocol: Protocol, events: unknown[]): { outputs: number[]; usage: Usage | undefined } {
  const outputs: number[] = [];
  let usage: Usage | undefined;
  let at = -1;
  const sink: ResponseSink = { output: () => outputs.push(at), usage: (u) => (usage = u), model() {}, complete() {}, error() {}, serverTiming() {} };
  const reader = protocol.events(sink, false);
  for (const [i, e] of events.entries()) {
    at = i;
    const typed = e as { type?: string };
    reader.read(protocol === openaiResponses ? `event: ${typed.type}\ndata: ${JSON.stringify(e)}\n\n` : `data: ${JSON.stringify(e)}\n\n`, true);
  }
  reader.end();
  return { outputs, usage };
}

const chunk = (delta: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ id: 'c', object: 'chat.completion.chunk', model: 'm', choices: [{ index: 0, delta, finish_reason: null }], ...extra });

describe('chat completions output', () => {
  it("is not a tool call's header (id and name, no argument text); it is argument text", () => {
    const r = read(openaiChat, [
      chunk({ role: 'assistant', content: null, tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"q":' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '"x"}' } }] }),
    ]);
    expect(r.outputs).toEqual([1, 2]);
  });

  it('is a tool call header that carries no function at all only after the first output (every chunk counts then)', () => {
    expect(read(openaiChat, [chunk({ tool_calls: [{ index: 0, id: 'call_1', type: 'function' }] })]).outputs).toEqual([]);
  });

  it("is Mistral's typed content parts: thinking, then text", () => {
    const r = read(openaiChat, [
      chunk({ role: 'assistant', content: '' }),
      chunk({ content: [{ type: 'thinking', thinking: [{ type: 'text', text: 'Let me see' }] }] }),
      chunk({ content: [{ type: 'text', text: 'Hello' }] }),
    ]);
    expect(r.outputs).toEqual([1, 2]);
  });

  it('is not an empty typed part', () => {
    expect(read(openaiChat, [chunk({ content: [{ type: 'text', text: '' }] })]).outputs).toEqual([]);
  });
});

describe('chat completions usage', () => {
  it("bills xAI's reasoning, which its completion_tokens leave out (total = prompt + completion + reasoning)", () => {
    const r = read(openaiChat, [
      { id: 'c', object: 'chat.completion.chunk', model: 'grok-4', choices: [], usage: { prompt_tokens: 30, completion_tokens: 1, total_tokens: 322, completion_tokens_details: { reasoning_tokens: 291 } } },
    ]);
    expect(r.usage).toMatchObject({ input: 30, output: 292, reasoning: 291 });
  });

  it("keeps OpenAI's completion_tokens, which hold the reasoning already (total = prompt + completion)", () => {
    const r = read(openaiChat, [
      { id: 'c', object: 'chat.completion.chunk', model: 'o4-mini', choices: [], usage: { prompt_tokens: 30, completion_tokens: 300, total_tokens: 330, completion_tokens_details: { reasoning_tokens: 256 }, prompt_tokens_details: { cached_tokens: 10 } } },
    ]);
    expect(r.usage).toEqual({ input: 30, cacheRead: 10, cacheWrite: 0, output: 300, reasoning: 256, estimated: false });
  });
});

describe('Responses output', () => {
  it("is the model's deltas, not a hosted tool's own output", () => {
    const r = read(openaiResponses, [
      { type: 'response.created', response: { model: 'gpt-5' } },
      { type: 'response.code_interpreter_call_code.delta', delta: 'print(1)' },
      { type: 'response.shell_call_output.delta', delta: '1\n' },
      { type: 'response.code_interpreter_call.output.delta', delta: 'log' },
      { type: 'response.output_text.delta', delta: 'The answer is 1' },
      { type: 'response.shell_call_output.delta', delta: 'more' },
      { type: 'response.reasoning_summary_text.delta', delta: 'because' },
    ]);
    expect(r.outputs).toEqual([1, 4, 6]);
  });
});
