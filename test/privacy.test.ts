import { diag, DiagLogLevel } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { CHAT, useHarness } from './support/harness.ts';

const h = useHarness();
const SECRET = 'the-secret-prompt-4711';
const COMPLETION = 'the-private-completion-0815';

/** Every attribute key inferometer may put on a metric. */
const ALLOWED_KEYS = new Set([
  'gen_ai.operation.name', 'gen_ai.provider.name', 'gen_ai.request.model', 'gen_ai.response.model', 'gen_ai.token.type',
  'server.address', 'server.port', 'error.type', 'http.response.status_code', 'workload.class', 'inferometer.outcome', 'inferometer.estimated',
]);

describe('privacy: no prompt, completion, API key or header value reaches a metric or a log', () => {
  it('uses only the documented attribute keys, with short values, and never the text or the key', async () => {
    const logs: string[] = [];
    const log = (...args: unknown[]) => logs.push(args.map(String).join(' '));
    diag.setLogger({ error: log, warn: log, info: log, debug: log, verbose: log }, DiagLogLevel.ALL);
    try {
      h.server.enqueue(
        { kind: 'chat-stream', model: 'unpriced-model', chunks: [COMPLETION, COMPLETION] },
        { kind: 'json', model: 'unpriced-model', content: COMPLETION },
        { kind: 'chat-stream', chunks: [COMPLETION], errorAfter: { chunks: 1, code: 'bad', message: COMPLETION } },
        { kind: 'json', status: 400, body: { error: { message: COMPLETION, code: 'x' } } },
      );
      const client = h.client({}, { apiKey: `sk-${SECRET}` });
      const body = { ...CHAT, messages: [{ role: 'user' as const, content: SECRET }] };
      for await (const _ of await client.chat.completions.create({ ...body, stream: true }, { headers: { 'x-secret': SECRET } }));
      await client.chat.completions.create(body);
      await client.chat.completions.create({ ...body, stream: true }).then(async (s) => { for await (const _ of s); }).catch(() => undefined);
      await client.chat.completions.create(body).catch(() => undefined);
      const s = await h.finished(4);
      for (const key of s.attributeKeys()) expect(ALLOWED_KEYS).toContain(key);
      const everything = JSON.stringify(s.metrics.map((m) => m.dataPoints.map((p) => p.attributes))) + logs.join('\n');
      expect(everything).not.toContain(SECRET);
      expect(everything).not.toContain(COMPLETION);
      for (const m of s.metrics) for (const p of m.dataPoints) for (const v of Object.values(p.attributes)) expect(String(v).length).toBeLessThanOrEqual(128);
    } finally {
      diag.disable();
    }
  });
});
