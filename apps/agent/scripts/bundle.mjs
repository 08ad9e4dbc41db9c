#!/usr/bin/env node
// Bundles the agent into one file, dist/accountdb-agent.mjs, that runs on the Node.js of a
// Proxmox host (Debian's nodejs: 18 on PVE 8, 20 on PVE 9) with no node_modules beside it.
import { chmodSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
// An output path may be given (tests bundle into a temporary directory).
const outfile = resolve(process.argv[2] ?? `${root}dist/accountdb-agent.mjs`);
mkdirSync(dirname(outfile), { recursive: true });

const result = await build({
  entryPoints: [`${root}src/cli.ts`],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node18',
  minify: false,
  sourcemap: false,
  legalComments: 'inline',
  metafile: true,
  logLevel: 'warning',
  // Some bundled CommonJS modules call require() for Node built-ins; give ESM a require.
  banner: {
    js: [
      '#!/usr/bin/env node',
      `// accountdb-agent ${pkg.version} — bundled with esbuild; source: apps/agent in the AccountDB repository`,
      "import { createRequire as __adbCreateRequire } from 'node:module';",
      'const require = __adbCreateRequire(import.meta.url);',
    ].join('\n'),
  },
});
chmodSync(outfile, 0o755);
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
process.stdout.write(`bundled ${outfile} (${Math.round(bytes / 1024)} KiB)\n`);
