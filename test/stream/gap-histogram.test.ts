import { describe, expect, it } from 'vitest';
import { DURATION_BUCKETS } from '../../src/semconv.js';
import { GapHistogram } from '../../src/stream/gap-histogram.js';
import { createTestMeter } from '../support/metrics.ts';

/** Records `gaps` (ms) into a real OTel histogram: one record per chunk, or through a GapHistogram replay. */
async function viaOtel(gaps: number[], batched: boolean) {
  const meter = createTestMeter();
  const histogram = meter.meterProvider.getMeter('t').createHistogram('gaps', { unit: 's', advice: { explicitBucketBoundaries: [...DURATION_BUCKETS] } });
  if (batched) {
    const local = new GapHistogram();
    for (const g of gaps) local.add(g);
    local.replay((s) => histogram.record(s));
  } else {
    for (const g of gaps) histogram.record(g / 1000);
  }
  const summary = (await meter.collect()).histogram('gaps');
  await meter.shutdown();
  return summary;
}

describe('GapHistogram keeps the per-chunk distribution', () => {
  it('gives the same bucket counts, count, sum, min and max as one OTel record per chunk', async () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const gaps = Array.from({ length: 5000 }, () => Math.exp(random() * 9) / 10); // 0.1 ms .. 800 ms, log-spread
    gaps.push(10, 20, 81920, 100_000, 0); // on the boundaries, past the last one, zero
    const direct = await viaOtel(gaps, false);
    const batched = await viaOtel(gaps, true);
    expect(batched.counts).toEqual(direct.counts);
    expect(batched.count).toBe(direct.count);
    expect(batched.min).toBe(direct.min);
    expect(batched.max).toBe(direct.max);
    expect(batched.sum).toBeCloseTo(direct.sum, 6);
  });

  it('holds a fixed amount of memory whatever the stream length, and tracks the largest gap', () => {
    const h = new GapHistogram();
    for (let i = 0; i < 100_000; i++) h.add(i % 100);
    expect(h.total).toBe(100_000);
    expect(h.max).toBe(99);
    expect(h.counts()).toHaveLength(DURATION_BUCKETS.length + 1);
    expect(h.counts().reduce((a, b) => a + b, 0)).toBe(100_000);
  });
});
