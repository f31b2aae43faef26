// The SSE events of one scripted chat completions stream, as OpenAI sends them: a role chunk,
// one chunk per content token, a finish chunk, and with `stream_options.include_usage` a
// `"usage":null` member on every chunk plus a final usage chunk with `choices: []`; then [DONE].
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
