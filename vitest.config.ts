import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/fuzz/**'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // The suite measures timing against a loopback server: keep files from
    // competing for the two cores of a CI machine.
    fileParallelism: false,
  },
});
