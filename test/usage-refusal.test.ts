import { describe, expect, it } from 'vitest';
import { CHAT, useHarness } from './support/harness.ts';
import type { RecordedRequest, Script } from './support/scripted-server.ts';

/*
 * inferometer adds `stream_options.include_usage` to streamed chat requests. Whatever it adds must
 * never turn a call that works without it into a failing one: a server that refuses the member
 * gets the request again without it, and that server is not asked again.
 */

const h = useHarness();

const asked = (r: RecordedRequest) => (r.body as { stream_options?: unknown }).stream_options !== undefined;

/** A server that answers a request carrying `stream_options` with `refusal`, and streams otherwise. */
const refusing = (refusal: Script) => (req: RecordedRequest): Script => (asked(req) ? refusal : { kind: 'chat-stream', chunks: ['o', 'k'] });

const REFUSALS: Array<[string, Script]> = [
  [
    '422 from FastAPI/pydantic (extra="forbid")',
    {
      kind: 'json',
      status: 422,
      body: { detail: [{ type: 'extra_forbidden', loc: ['body', 'stream_options'], msg: 'Extra inputs are not permitted', input: { include_usage: true } }] },
    },
  ],
  ['422 from axum Json', { kind: 'json', status: 422, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'Failed to deserialize the JSON body into the target type: unknown field `stream_options`, expected one of `model`, `messages`, `stream` at line 1 column 120' }],
  ['400 naming include_usage', { kind: 'json', status: 400, body: { error: { message: 'Unrecognized request argument supplied: stream_options.include_usage', type: 'invalid_request_error', param: null, code: null } } }],
  ['400 from a server that takes no options', { kind: 'json', status: 400, body: { object: 'error', message: '[{"loc": ["body", "stream_options"], "msg": "extra fields not permitted"}]', type: 'BadRequestError', code: 400 } }],
];

describe('a server that refuses the usage option inferometer added', () => {
  it.each(REFUSALS)('gets the request again without it, once per server: %s', async (_name, refusal) => {
    h.server.setFallback(refusing(refusal));
    const client = h.client();
    const first: string[] = [];
    for await (const c of await client.chat.completions.create({ ...CHAT, stream: true })) first.push(c.choices[0]?.delta.content ?? '');
    for await (const _ of await client.chat.completions.create({ ...CHAT, stream: true }));
    expect(first.join('')).toBe('ok');
    expect(h.server.requests.map(asked)).toEqual([true, false, false]);
    const s = await h.finished(2);
    expect(s.sum('inferometer.requests', { 'inferometer.outcome': 'success' })).toBe(2);
    expect(s.sum('inferometer.requests', { 'inferometer.outcome': 'error' })).toBe(0);
    expect(s.sum('inferometer.attempts', { 'http.response.status_code': refusal.kind === 'json' ? refusal.status! : 0 })).toBe(1);
  });

  it('leaves a 422 that is about something else to the app, untouched and recorded as 422', async () => {
    const body = { detail: [{ type: 'missing', loc: ['body', 'messages'], msg: 'Field required' }] };
    h.server.enqueue({ kind: 'json', status: 422, body }, { kind: 'json', status: 422, body });
    const seen = async (client: ReturnType<typeof h.bare>) => {
      try {
        await client.chat.completions.create({ ...CHAT, stream: true });
        return undefined;
      } catch (error) {
        const e = error as { status?: number; error?: unknown; constructor: { name: string } };
        return { name: e.constructor.name, status: e.status, error: e.error };
      }
    };
    const bare = await seen(h.bare());
    const metered = await seen(h.client());
    expect(metered).toEqual(bare);
    expect(metered?.status).toBe(422);
    expect(h.server.requests.map(asked)).toEqual([false, true]);
    const s = await h.finished();
    expect(s.sum('inferometer.requests', { 'error.type': '422' })).toBe(1);
  });

  it("does not resend when the app's own stream_options is what the server refuses", async () => {
    h.server.enqueue({ kind: 'json', status: 422, body: { detail: [{ type: 'extra_forbidden', loc: ['body', 'stream_options', 'foo'], msg: 'Extra inputs are not permitted' }] } });
    const error = await h
      .client()
      .chat.completions.create({ ...CHAT, stream: true, stream_options: { include_obfuscation: false } })
      .then(() => undefined, (e: unknown) => e);
    expect((error as { status?: number }).status).toBe(422);
    expect(h.server.requests).toHaveLength(1);
  });
});
