import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', sdk: 'src/sdk/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node22',
  platform: 'node',
  treeshake: true,
  // Shared code (InferometerConfigError) in one chunk for CJS too, so `instanceof` holds across entry points.
  splitting: true,
});
