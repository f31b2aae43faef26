import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.ts';

// `npm run test:fuzz`: the nightly-size property runs (FUZZ_RUNS, default 10,000 cases).
export default mergeConfig(
  base,
  defineConfig({
    test: {
      include: ['test/fuzz/**/*.fuzz.ts'],
      exclude: [],
      testTimeout: 30 * 60_000,
      env: { FUZZ_RUNS: process.env['FUZZ_RUNS'] ?? '10000' },
    },
  }),
);
