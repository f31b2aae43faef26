// What the "app" does in every scenario: one streamed chat completion through the openai SDK
// (or, consumeMessages, one streamed Anthropic message through @anthropic-ai/sdk),
// iterated with `for await`, touching each chunk the way an app would (reading the delta).

/** The base URL that scripts a stream on the bench server (see server.mjs). */
export function scriptedURL(port, mode, chunks, ttftMs, gapMs) {
  const timing = ttftMs === undefined ? '' : `/${ttftMs}/${gapMs}`;
  return `http://127.0.0.1:${port}/s/${mode}/${chunks}${timing}/v1`;
}

/** The request, a fresh object per call as an app builds it (OpenLIT writes into it). */
export const params = (usage = false) => ({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'Write a long story about a fox.' }],
  stream: true,
  ...(usage ? { stream_options: { include_usage: true } } : {}),
});

/** Busy-waits `ms` (synchronous CPU work, as a parser or renderer would do). */
function spin(ms) {
  const until = performance.now() + ms;
  while (performance.now() < until);
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Streams one completion. Options: `delayMs` between create() resolving and the first next();
 * `workMs` per chunk, `syncWork` to do it as CPU work (else as an await); `usage` to ask for
 * `stream_options.include_usage` as the app. Returns the app's own view:
 * chunks received, characters, when create() was called, and when each content chunk reached the app.
 */
export async function consume(client, { usage = false, delayMs = 0, workMs = 0, syncWork = false, times = false } = {}) {
  const calledAt = performance.now();
  const stream = await client.chat.completions.create(params(usage));
  if (delayMs > 0) await sleep(delayMs);
  let chunks = 0;
  let chars = 0;
  let id;
  const contentAt = times ? [] : undefined;
  for await (const chunk of stream) {
    chunks++;
    id ??= chunk.id;
    const content = chunk.choices[0]?.delta?.content;
    if (content) {
      chars += content.length;
      contentAt?.push(performance.now());
    }
    if (workMs > 0) {
      if (syncWork) spin(workMs);
      else await sleep(workMs);
    }
  }
  return { chunks, chars, id, calledAt, endAt: performance.now(), contentAt };
}

/** The Anthropic Messages request, a fresh object per call. */
export const messagesParams = () => ({
  model: 'claude-sonnet-4-5',
  max_tokens: 8192,
  messages: [{ role: 'user', content: 'Write a long story about a fox.' }],
  stream: true,
});

/**
 * consume() for an `@anthropic-ai/sdk` client: one streamed `messages.create()`, iterated with
 * `for await`, reading each text delta. `chunks` counts every event the app receives (as
 * consume() counts every chunk). Anthropic streams carry usage unasked: `usage` is ignored.
 */
export async function consumeMessages(client, { times = false } = {}) {
  const calledAt = performance.now();
  const stream = await client.messages.create(messagesParams());
  let chunks = 0;
  let chars = 0;
  let id;
  const contentAt = times ? [] : undefined;
  for await (const event of stream) {
    chunks++;
    if (event.type === 'message_start') id ??= event.message.id;
    else if (event.type === 'content_block_delta' && event.delta.type === 'text_delta' && event.delta.text) {
      chars += event.delta.text.length;
      contentAt?.push(performance.now());
    }
  }
  return { chunks, chars, id, calledAt, endAt: performance.now(), contentAt };
}
