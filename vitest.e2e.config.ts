import { defineConfig } from 'vitest/config';

// `npm run test:e2e` (.ci/e2e.sh in CI): the end-to-end tests under test/e2e/, against a real
// Prometheus (Debian's `prometheus` package) and the examples run as child processes. `npm test`
// never picks them up: its config includes only `test/**/*.test.ts`.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.e2e.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // Timing is measured on loopback: one file at a time on a 2-core CI machine.
    fileParallelism: false,
  },
});
