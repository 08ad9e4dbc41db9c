import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));

/** What the numbers were measured on (2-core VMs with other work running are noisy). */
export function machine(extra = {}) {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpu_model: cpus[0]?.model ?? 'unknown',
    memory_gb: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.platform()} ${os.release()}`,
    node: process.version,
    loadavg_at_start: os.loadavg().map((n) => Number(n.toFixed(2))),
    ...extra,
  };
}

/**
 * Writes bench/results/<name>.json:
 * {name, date, machine, params, figures, baseline, ratio, target, met}.
 */
export function writeResult(result) {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const doc = { name: result.name, date: new Date().toISOString(), ...result };
  const file = `${RESULTS_DIR}${result.name}.json`;
  writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
  // In the repository's own format, so `npm run lint` stays clean after a run.
  try {
    const biome = createRequire(import.meta.url).resolve('@biomejs/biome/bin/biome');
    execFileSync(process.execPath, [biome, 'format', '--write', file], { stdio: 'ignore' });
  } catch {
    // formatting is cosmetic; the numbers are written either way
  }
  return file;
}

/** Prints rows (arrays of cells) as an aligned table; the first row is the header. */
export function printTable(rows) {
  const cells = rows.map((r) => r.map((c) => (c === null || c === undefined ? '' : String(c))));
  const widths = cells[0].map((_, i) => Math.max(...cells.map((r) => r[i]?.length ?? 0)));
  const line = (r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])));
  const out = [line(cells[0]).join('  '), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const r of cells.slice(1)) out.push(line(r).join('  '));
  process.stdout.write(`\n${out.join('\n')}\n\n`);
}

/** Rounds for display and JSON: 3 significant-ish digits, no noise. */
export const round = (n, digits = 1) =>
  n === null || n === undefined || Number.isNaN(n) ? null : Number(n.toFixed(digits));

/** The p-th percentile (0-100) of numbers, nearest rank. */
export function percentile(values, p) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}
