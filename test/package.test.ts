import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { VERSION } from '../src/version.js';
import { useHarness } from './support/harness.ts';

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as Record<string, any>;
const h = useHarness();

function importsOf(file: string): string[] {
  const code = readFileSync(file, 'utf8');
  return [...code.matchAll(/(?:from |require\()['"]([^'"]+)['"]/g)].map((m) => m[1]!);
}

/** The package as npm would publish it (`npm test` builds dist/ first, in `pretest`). */
function packedFiles(): string[] {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { encoding: 'utf8' });
  return (JSON.parse(out) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path).sort();
}

describe('the package is the product', () => {
  it('ships only dist, README, CHANGELOG, LICENSE and package.json', () => {
    const files = packedFiles();
    expect(files).toEqual(expect.arrayContaining(['dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'dist/index.d.cts', 'dist/sdk.js', 'dist/sdk.cjs', 'dist/sdk.d.ts', 'README.md', 'CHANGELOG.md', 'LICENSE', 'package.json']));
    expect(files.filter((f) => !/^(dist\/|README\.md$|CHANGELOG\.md$|LICENSE$|package\.json$)/.test(f))).toEqual([]);
  });

  it('declares what the brief promises: engines, peers, one dependency, no side effects', () => {
    // The lowest Node CI tests (.ci/run: the newest 22.x) and the toolchain needs: 22.18 strips types (scripts/ensure-node.mjs).
    expect(pkg['engines']).toEqual({ node: '>=22.18' });
    expect(pkg['sideEffects']).toBe(false);
    expect(Object.keys(pkg['dependencies'])).toEqual(['eventsource-parser']);
    expect(pkg['peerDependencies']).toMatchObject({ '@opentelemetry/api': expect.any(String), openai: '^5 || ^6 || ^7' });
    expect(pkg['peerDependenciesMeta']).toEqual({ openai: { optional: true }, '@opentelemetry/sdk-metrics': { optional: true } });
    expect(VERSION).toBe(pkg['version']);
  });

  it('keeps the bundle small and free of what must never be in it', () => {
    for (const file of ['dist/index.js', 'dist/index.cjs']) {
      // The entry and the chunks it loads: readable, unminified, five protocols, the price tables,
      // the Bedrock event-stream decoder (~165 KB, 37 KB gzipped). The ceiling is far below
      // anything a leak brings (the OTel SDK alone is ~500 KB).
      const loaded = [file, ...importsOf(file).filter((i) => i.startsWith('./')).map((i) => `dist/${i.slice(2)}`)];
      expect(loaded.reduce((bytes, f) => bytes + statSync(f).size, 0)).toBeLessThan(176 * 1024);
      const imports = importsOf(file);
      expect(new Set(imports.filter((i) => !i.startsWith('./')))).toEqual(new Set(['@opentelemetry/api', 'async_hooks', 'eventsource-parser']));
    }
    // The optional SDK helper lives in its own entry: the main one never loads the OTel SDK.
    const mainFiles = ['dist/index.js', ...importsOf('dist/index.js').filter((i) => i.startsWith('./')).map((i) => `dist/${i.slice(2)}`)];
    for (const file of mainFiles) expect(readFileSync(file, 'utf8')).not.toContain('@opentelemetry/sdk-metrics');
    expect(importsOf('dist/sdk.js')).toContain('@opentelemetry/sdk-metrics');
  });

  it('throws one InferometerConfigError class from both entry points, in CommonJS as in ESM', () => {
    const check = (load: string) =>
      `${load} try { sdk.inferometerViews({ histograms: 'native' }) } catch (e) { console.log(e instanceof main.InferometerConfigError) }`;
    const cjs = execFileSync(process.execPath, ['-e', check("const main = require('./dist/index.cjs'); const sdk = require('./dist/sdk.cjs');")], { encoding: 'utf8' });
    expect(cjs.trim()).toBe('true');
    const esm = execFileSync(process.execPath, ['--input-type=module', '-e', check("const main = await import('inferometer'); const sdk = await import('inferometer/sdk');")], { encoding: 'utf8' });
    expect(esm.trim()).toBe('true');
  });

  it('loads as CommonJS and as ESM', () => {
    const cjs = execFileSync(process.execPath, ['-e', "const m = require('./dist/index.cjs'); console.log(typeof m.instrument, typeof m.meteredFetch, typeof m.withWorkload)"], { encoding: 'utf8' });
    expect(cjs.trim()).toBe('function function function');
    const esm = execFileSync(process.execPath, ['--input-type=module', '-e', "const m = await import('inferometer'); console.log(typeof m.instrument)"], { encoding: 'utf8' });
    expect(esm.trim()).toBe('function');
  });

  it('runs against the openai major CI asked for (INFEROMETER_OPENAI), so the peer range is tested, not claimed', async () => {
    await new OpenAI({ baseURL: h.server.baseURL, apiKey: 'k' }).chat.completions.create({ model: 'm', messages: [] });
    const sent = h.server.requests[0]!.headers['x-stainless-package-version'];
    const dir = process.env['INFEROMETER_OPENAI'];
    const expected = JSON.parse(readFileSync(dir ? `${dir}/package.json` : 'node_modules/openai/package.json', 'utf8')).version;
    expect(sent).toBe(expected);
  });
});
