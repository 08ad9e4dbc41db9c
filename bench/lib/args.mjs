import { parseArgs } from 'node:util';

export const DEFAULT_DATABASE_URL =
  process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/bench_scale';

/**
 * Parses a benchmark's options. `spec` maps option names to {type, default, help};
 * numbers are given as type 'number' and checked. --help prints the options and exits.
 */
export function parseOptions(argv, { usage, options }) {
  const parseSpec = { help: { type: 'boolean' } };
  for (const [name, o] of Object.entries(options)) {
    parseSpec[name] = { type: o.type === 'boolean' ? 'boolean' : 'string' };
  }
  const { values } = parseArgs({ args: argv, options: parseSpec, strict: true });
  if (values.help) {
    const lines = [usage, '', 'options:'];
    for (const [name, o] of Object.entries(options)) {
      const def = o.default === undefined ? '' : ` (default ${o.default})`;
      lines.push(`  --${name.padEnd(16)} ${o.help}${def}`);
    }
    process.stdout.write(`${lines.join('\n')}\n`);
    process.exit(0);
  }
  const out = {};
  for (const [name, o] of Object.entries(options)) {
    const raw = values[name];
    if (raw === undefined) {
      out[name] = o.default;
    } else if (o.type === 'number') {
      const n = Number(raw);
      if (!Number.isFinite(n) || n < 0)
        throw new Error(`--${name} must be a number (got "${raw}")`);
      out[name] = n;
    } else {
      out[name] = raw;
    }
  }
  return out;
}
