#!/usr/bin/env node
// Benchmark dispatcher: `npm run bench -- <name> [options]` runs bench/<name>.mjs.
// A new benchmark is a new file bench/<name>.mjs exporting `description` and `main(argv)`.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));

function available() {
  return readdirSync(here)
    .filter((f) => /^[a-z][a-z0-9-]*\.mjs$/.test(f) && f !== 'run.mjs')
    .map((f) => f.slice(0, -'.mjs'.length))
    .sort();
}

async function usage(code) {
  const lines = ['usage: npm run bench -- <name> [options]', '', 'benchmarks:'];
  for (const name of available()) {
    const mod = await import(new URL(`./${name}.mjs`, import.meta.url).href);
    lines.push(`  ${name.padEnd(10)} ${mod.description ?? ''}`);
  }
  lines.push('', 'Each benchmark takes --help. Results go to bench/results/<name>.json.');
  (code === 0 ? process.stdout : process.stderr).write(`${lines.join('\n')}\n`);
  process.exit(code);
}

const [name, ...argv] = process.argv.slice(2);
if (!name || name === '--help' || name === '-h') await usage(name ? 0 : 1);
if (!available().includes(name)) {
  process.stderr.write(`bench: unknown benchmark "${name}"\n`);
  await usage(1);
}
const mod = await import(new URL(`./${name}.mjs`, import.meta.url).href);
try {
  await mod.main(argv);
  // Pools, timers or the in-process API must not keep a finished benchmark alive.
  process.exit(0);
} catch (err) {
  process.stderr.write(
    `bench ${name}: ${err instanceof Error ? (err.stack ?? err.message) : err}\n`,
  );
  process.exit(1);
}
