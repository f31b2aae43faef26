import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

// CI runs the suite a second time against the lowest supported openai major, installed apart:
// INFEROMETER_OPENAI=path/to/node_modules/openai npm test
const openai = process.env['INFEROMETER_OPENAI'];

export default defineConfig({
  resolve: openai ? { alias: [{ find: /^openai$/, replacement: resolve(openai) }] } : {},
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // The suite measures timing against a loopback server: keep files from
    // competing for the two cores of a CI machine.
    fileParallelism: false,
  },
});
