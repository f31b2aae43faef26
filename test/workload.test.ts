import { describe, expect, it } from 'vitest';
import { InferometerConfigError, withWorkload } from '../src/index.js';
import { CHAT, useHarness } from './support/harness.ts';

const h = useHarness();
const WORKLOAD = 'workload.class';

describe('workload class', () => {
  it('defaults to "default", and takes the `workload` option', async () => {
    await h.client().chat.completions.create(CHAT);
    await h.client({ workload: 'batch' }).chat.completions.create(CHAT);
    const s = await h.finished(2);
    expect(s.sum('inferometer.requests', { [WORKLOAD]: 'default' })).toBe(1);
    expect(s.sum('inferometer.requests', { [WORKLOAD]: 'batch' })).toBe(1);
  });

  it('takes a function of the request (operation, model, stream flag, URL)', async () => {
    const seen: unknown[] = [];
    const client = h.client({
      workload: (req) => {
        seen.push(req);
        return req.stream ? 'chat' : 'batch';
      },
    });
    await client.chat.completions.create(CHAT);
    for await (const _ of await client.chat.completions.create({ ...CHAT, stream: true }));
    expect(seen[0]).toEqual({ operation: 'chat', model: 'gpt-4o-mini', stream: false, url: `${h.server.baseURL}/chat/completions` });
    const s = await h.finished(2);
    expect(s.sum('inferometer.requests', { [WORKLOAD]: 'batch' })).toBe(1);
    expect(s.sum('inferometer.requests', { [WORKLOAD]: 'chat' })).toBe(1);
  });

  it('records _OTHER when the function throws or returns an invalid name, and the call goes on', async () => {
    await h.client({ workload: () => { throw new Error('boom'); } }).chat.completions.create(CHAT);
    await h.client({ workload: () => 'not a valid name!' }).chat.completions.create(CHAT);
    const s = await h.finished(2);
    expect(s.sum('inferometer.requests', { [WORKLOAD]: '_OTHER' })).toBe(2);
  });

  it('withWorkload scopes win over the option, and concurrent scopes never bleed into each other', async () => {
    h.server.setFallback((req) => ({ kind: 'chat-stream', chunks: ['x'], ttftMs: (req.body as { messages: Array<{ content: string }> }).messages[0]!.content === 'a' ? 60 : 5 }));
    const client = h.client({ workload: 'fallback' });
    const run = (name: string, content: string) =>
      withWorkload(name, async () => {
        await new Promise((r) => setTimeout(r, Math.random() * 10));
        for await (const _ of await client.chat.completions.create({ ...CHAT, stream: true, messages: [{ role: 'user', content }] }));
      });
    await Promise.all([run('scope-a', 'a'), run('scope-b', 'b'), run('scope-a', 'a'), run('scope-b', 'b')]);
    const s = await h.finished(4);
    // scope-a requests are the slow ones: if scopes bled, the TTFTs would be mixed up
    expect(s.histogram('inferometer.time_to_first_token', { [WORKLOAD]: 'scope-a' }).min).toBeGreaterThanOrEqual(0.055);
    expect(s.histogram('inferometer.time_to_first_token', { [WORKLOAD]: 'scope-b' }).max).toBeLessThan(0.05);
    expect(s.sum('inferometer.requests', { [WORKLOAD]: 'fallback' })).toBe(0);
  });

  it('nested scopes: the innermost wins', async () => {
    await withWorkload('outer', () => withWorkload('inner', () => h.client().chat.completions.create(CHAT)));
    const s = await h.finished();
    expect(s.sum('inferometer.requests', { [WORKLOAD]: 'inner' })).toBe(1);
  });

  it('the per-call header wins over everything and never reaches the server', async () => {
    await withWorkload('scoped', () =>
      h.client({ workload: 'option' }).chat.completions.create(CHAT, { headers: { 'x-inferometer-workload': 'agent' } }),
    );
    expect(h.server.requests[0]!.headers).not.toHaveProperty('x-inferometer-workload');
    const s = await h.finished();
    expect(s.sum('inferometer.requests', { [WORKLOAD]: 'agent' })).toBe(1);
  });

  it('caps distinct classes at maxWorkloadClasses, recording the rest as _OTHER', async () => {
    const client = h.client({ maxWorkloadClasses: 3 });
    for (let i = 0; i < 6; i++) await client.chat.completions.create(CHAT, { headers: { 'x-inferometer-workload': `w${i}` } });
    const s = await h.finished(6);
    const classes = new Set(s.points('inferometer.requests').map((p) => p.attributes[WORKLOAD]));
    expect(classes).toEqual(new Set(['w0', 'w1', 'w2', '_OTHER']));
    expect(s.sum('inferometer.requests', { [WORKLOAD]: '_OTHER' })).toBe(3);
  });

  it('rejects invalid names at set-up with a message that says what was expected', () => {
    expect(() => withWorkload('', () => 1)).toThrow(InferometerConfigError);
    expect(() => withWorkload('has space', () => 1)).toThrow(
      'Expected `name` to be a workload class name (1-64 characters of A-Z a-z 0-9 . _ - : /), got `"has space"` (string)',
    );
    expect(() => h.client({ workload: 'x'.repeat(65) })).toThrow(/Expected `workload` to be a workload class name/);
  });

  it('withWorkload returns what its function returns', async () => {
    expect(withWorkload('w', () => 42)).toBe(42);
    await expect(withWorkload('w', async () => 'async')).resolves.toBe('async');
  });
});
