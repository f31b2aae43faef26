// The SSE events of one scripted chat completions stream, as OpenAI sends them: a role chunk,
// one chunk per content token, a finish chunk, and with `stream_options.include_usage` a
// `"usage":null` member on every chunk plus a final usage chunk with `choices: []`; then [DONE].
// And those of one Anthropic Messages stream (anthropicEvents).
const MODEL = 'gpt-4o-mini-2024-07-18';
const WORDS = [' the', ' quick', ' brown', ' fox', ' jumps', ' over', ' a', ' lazy', ' dog', '.', ' It', ' was', ' not', ' amused', ',', ' really'];

function chunk(id, usage, delta, finish) {
  const u = usage ? ',"usage":null' : '';
  return `data: {"id":"chatcmpl-${id}","object":"chat.completion.chunk","created":1764000000,"model":"${MODEL}","service_tier":"default","system_fingerprint":"fp_bench01","choices":[{"index":0,"delta":${delta},"logprobs":null,"finish_reason":${finish}}]${u}}\n\n`;
}

/** The events of stream `id` with `n` content chunks, each as its own Buffer (`tokens`: the usage's completion tokens). */
export function sseEvents(id, n, usage, tokens = n) {
  const out = [Buffer.from(chunk(id, usage, '{"role":"assistant","content":"","refusal":null}', 'null'))];
  for (let i = 0; i < n; i++) out.push(Buffer.from(chunk(id, usage, `{"content":${JSON.stringify(WORDS[i % WORDS.length])}}`, 'null')));
  out.push(Buffer.from(chunk(id, usage, '{}', '"stop"')));
  if (usage) {
    const u = `{"prompt_tokens":12,"completion_tokens":${tokens},"total_tokens":${12 + tokens},"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}`;
    out.push(Buffer.from(`data: {"id":"chatcmpl-${id}","object":"chat.completion.chunk","created":1764000000,"model":"${MODEL}","service_tier":"default","system_fingerprint":"fp_bench01","choices":[],"usage":${u}}\n\n`));
  }
  out.push(Buffer.from('data: [DONE]\n\n'));
  return out;
}

const BIG_TEXT = ' the quick brown fox jumps over a lazy dog. It was not amused, really.';
const bigContents = new Map();

/**
 * Stream `id` whose whole answer is one content chunk of `bytes` ASCII characters (a long answer
 * in one event): the role event, the big event as [head, content, tail] Buffers (the content is
 * made once per size and shared), and the finish, usage (with `usage`) and [DONE] events.
 */
export function bigEventStream(id, bytes, usage) {
  let content = bigContents.get(bytes);
  if (content === undefined) {
    content = Buffer.from(BIG_TEXT.repeat(Math.ceil(bytes / BIG_TEXT.length)).slice(0, bytes));
    bigContents.set(bytes, content);
  }
  const [role, ...end] = sseEvents(id, 0, usage, Math.round(bytes / 4));
  const [head, tail] = chunk(id, usage, '{"content":"\0"}', 'null').split('\0');
  return { role, big: [Buffer.from(head), content, Buffer.from(tail)], end };
}

const ANTHROPIC_MODEL = 'claude-sonnet-4-5-20250929';
const anthropicEvent = (name, data) => Buffer.from(`event: ${name}\ndata: ${JSON.stringify({ type: name, ...data })}\n\n`);

/**
 * The events of a scripted Anthropic Messages stream `id` with `n` text deltas, each as its own
 * Buffer, as the API sends them (shapes of `@anthropic-ai/sdk` 1.x and test/support's scripted
 * server): message_start (usage with a placeholder output count), content_block_start, one
 * content_block_delta (text_delta) per token, content_block_stop, message_delta (cumulative
 * usage), message_stop. Anthropic streams carry usage unasked.
 */
export function anthropicEvents(id, n) {
  const usage = { input_tokens: 12, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 }, output_tokens: 1, service_tier: 'standard' };
  const out = [
    anthropicEvent('message_start', { message: { id: `msg_bench${id}`, type: 'message', role: 'assistant', model: ANTHROPIC_MODEL, content: [], stop_reason: null, stop_sequence: null, usage } }),
    anthropicEvent('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
  ];
  for (let i = 0; i < n; i++) out.push(anthropicEvent('content_block_delta', { index: 0, delta: { type: 'text_delta', text: WORDS[i % WORDS.length] } }));
  out.push(anthropicEvent('content_block_stop', { index: 0 }));
  out.push(anthropicEvent('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { input_tokens: 12, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: n } }));
  out.push(anthropicEvent('message_stop', {}));
  return out;
}
