import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

// `npm run test:fuzz`: the property tests (`*.property.test.ts`) at nightly size. `npm test`
// runs the same files with a few hundred cases each (FUZZ_RUNS unset).
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ['test/**/*.property.test.ts'],
    testTimeout: 60 * 60_000,
    env: { FUZZ_RUNS: process.env['FUZZ_RUNS'] ?? '10000' },
  },
});
