import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import utils from 'pg/lib/utils.js';

const run = promisify(execFile);
export const PGBENCH = process.env.PGBENCH ?? '/usr/bin/pgbench';

/** A parameter as the SQL literal of the text node-postgres would send for it. */
function literal(value) {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  // A bytea parameter (the tenant context's signature) as PostgreSQL's hex format.
  if (Buffer.isBuffer(value)) return `'\\x${value.toString('hex')}'`;
  const text = utils.prepareValue(value);
  if (text === null) return 'NULL';
  const quoted = String(text).replace(/'/g, "''");
  // pgbench reads :name as one of its variables (JSON's "key":false would be one), so such a
  // colon is written as \x3a in an escape string.
  if (!/:[A-Za-z_]/.test(quoted)) return `'${quoted}'`;
  return `E'${quoted.replace(/\\/g, '\\\\').replace(/:(?=[A-Za-z_])/g, '\\x3a')}'`;
}

/** One captured statement ({text, values}) with its parameters written in as literals. */
export function inlineStatement({ text, values }) {
  return text.replace(/\$(\d+)/g, (_, n) => literal(values[Number(n) - 1]));
}

/** A pgbench script running the captured statements in order, one transaction or more. */
export function pgbenchScript(statements) {
  return `${statements.map((s) => `${inlineStatement(s).trim().replace(/;$/, '')};`).join('\n')}\n`;
}

/**
 * The minimal SQL of a list request, from its captured statements: BEGIN, the tenant context
 * statement, the page query (the one with LIMIT), COMMIT; nothing else (no session check,
 * no count). The context statement may have been sent together with BEGIN.
 */
export function minimalListScript(statements) {
  const inlined = statements.map((s) => inlineStatement(s).trim());
  const context = inlined
    .filter((t) => t.includes("set_config('role', 'accountdb_app'"))
    .at(-1)
    ?.replace(/^begin;\s*/i, '');
  const page = inlined.find((t) => /\blimit\s+\d+\s*$/i.test(t) && !/^select count/i.test(t));
  if (!context || !page)
    throw new Error('minimal SQL: no context statement or page query captured');
  return `BEGIN;\n${context.replace(/;$/, '')};\n${page.replace(/;$/, '')};\nCOMMIT;\n`;
}

/**
 * Runs pgbench with custom scripts (random choice among them, equal weights) and returns
 * {tps, latencyMs: {avg, p50, p95, p99}, transactions, failed}. Percentiles come from the
 * per-transaction log.
 */
export async function runPgbench(
  url,
  scripts,
  { clients, threads, seconds, transactions, mode = 'extended' },
) {
  const dir = mkdtempSync(path.join(tmpdir(), 'accountdb-pgbench-'));
  try {
    const files = scripts.map((script, i) => {
      const file = path.join(dir, `script${i}.sql`);
      writeFileSync(file, script);
      return file;
    });
    const args = [
      '-n',
      '-M',
      mode,
      '-c',
      String(clients),
      '-j',
      String(Math.min(threads ?? clients, clients)),
      ...(transactions ? ['-t', String(transactions)] : ['-T', String(seconds)]),
      '-l',
      `--log-prefix=${path.join(dir, 'log')}`,
      ...files.flatMap((f) => ['-f', f]),
      url,
    ];
    const { stdout } = await run(PGBENCH, args, { maxBuffer: 64 * 1024 * 1024 });
    const tps = Number(/tps = ([\d.]+) \(without initial connection time\)/.exec(stdout)?.[1]);
    const processed = Number(/number of transactions actually processed: (\d+)/.exec(stdout)?.[1]);
    const failed = Number(/number of failed transactions: (\d+)/.exec(stdout)?.[1] ?? 0);
    if (!Number.isFinite(tps)) throw new Error(`unexpected pgbench output:\n${stdout}`);
    const latencies = [];
    for (const f of readdirSync(dir).filter((n) => n.startsWith('log'))) {
      for (const line of readFileSync(path.join(dir, f), 'utf8').split('\n')) {
        const fields = line.split(' ');
        if (fields.length >= 3) latencies.push(Number(fields[2]) / 1000);
      }
    }
    return { tps, transactions: processed, failed, latencies };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
