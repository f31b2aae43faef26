import { GoogleGenAI } from '@google/genai';
import { describe, expect, it } from 'vitest';
import { meteredFetch } from '../../src/index.js';
import { useHarness } from '../support/harness.ts';
import { outcomes } from './support.ts';
import { collectGarbage } from './support.ts';

/*
 * An SDK that, while it awaits a read, keeps no other path to the body than its own pending read
 * (@google/genai) relies on the body being reachable from the socket, as the bare body is. The
 * tap holds its body weakly (a dropped body must be collectable), so while the app waits on a
 * read it holds it strongly: a collection mid-stream must never end the request or strand the
 * app's loop.
 */

const h = useHarness();

describe('a body the app waits on', () => {
  it('is not collected while the app awaits its next read, however often the collector runs', async () => {
    h.server.enqueue({ kind: 'gemini-stream', chunks: ['a', 'b', 'c', 'd'], ttftMs: 60, gapMs: 80 });
    const genai = new GoogleGenAI({ apiKey: 'k', httpOptions: { baseUrl: h.server.origin, fetch: meteredFetch({ meterProvider: h.meterProvider, linkRetries: false }) } });
    let chunks = 0;
    const read = (async () => {
      for await (const _ of await genai.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'hi' })) chunks++;
      return 'finished';
    })();
    let collecting = true;
    const collector = (async () => {
      while (collecting) await collectGarbage(1);
    })();
    const result = await Promise.race([read, new Promise((r) => setTimeout(() => r('stranded'), 3000))]);
    collecting = false;
    await collector;
    expect(result).toBe('finished');
    expect(chunks).toBeGreaterThanOrEqual(4);
    expect(outcomes(await h.finished())).toEqual({ success: 1 });
  });
});
