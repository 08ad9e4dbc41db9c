import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The benchmarks are not run by `npm test` (they need minutes and a seeded database), but
 * they must keep loading: `npm run bench` lists every one and each answers --help.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const bench = (...args: string[]) =>
  spawnSync(process.execPath, [path.join(ROOT, 'bench/run.mjs'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
const NAMES = readdirSync(path.join(ROOT, 'bench'))
  .filter((f) => f.endsWith('.mjs') && f !== 'run.mjs')
  .map((f) => f.slice(0, -4));

describe('npm run bench', () => {
  it('lists every benchmark the issue asks for, with a description', () => {
    const run = bench('--help');
    expect(run.status, run.stderr).toBe(0);
    for (const name of ['seed', 'list', 'search', 'sync', 'claim', 'ui', 'startup']) {
      expect(NAMES).toContain(name);
      expect(run.stdout).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
    }
  });

  it.each(NAMES)('%s answers --help with its options, doing nothing', (name) => {
    const run = bench(name, '--help');
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain(`npm run bench -- ${name}`);
  });

  it('refuses an unknown benchmark or option', () => {
    const unknown = bench('nonsense');
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('unknown benchmark "nonsense"');
    const option = bench('claim', '--no-such-option');
    expect(option.status).toBe(1);
  });
});
