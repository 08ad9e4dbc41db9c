import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * What the README and the docs say about the programs, checked against the programs: the
 * npm scripts they name exist, the ports they give are the defaults the start script uses,
 * every CLI command they list is one the CLI has (and the CLI has no command they leave out),
 * and the Node versions agree with package.json and the Docker images. What a start prints is
 * checked against a real start (apps/api/test/server-process.test.ts), the doctor's migrations
 * line against the doctor (cli-doctor.test.ts).
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');
const readme = read('README.md');
/** The README with every run of white space as one space (lines wrap anywhere). */
const flat = readme.replace(/\s+/g, ' ');
const pkg = JSON.parse(read('package.json')) as {
  scripts: Record<string, string>;
  engines: { node: string };
};

/** The subcommands the `accountdb` CLI defines. */
const cliCommands = [...read('apps/api/src/cli.ts').matchAll(/\.command\('([a-z-]+)'\)/g)].map(
  (m) => m[1],
);

describe('the README', () => {
  it('names only npm scripts that exist', () => {
    const named = new Set(
      [...readme.matchAll(/npm run ([a-z](?:[\w:-]*\w)?)/g)].map((m) => m[1] as string),
    );
    expect(named.size).toBeGreaterThan(4);
    for (const script of named) expect(Object.keys(pkg.scripts), script).toContain(script);
  });

  it('gives the ports the start script uses by default', () => {
    const start = read('scripts/start.mjs');
    const apiPort = /process\.env\.API_PORT \|\| '(\d+)'/.exec(start)?.[1];
    const webPort = /process\.env\.WEB_PORT \|\| '(\d+)'/.exec(start)?.[1];
    expect(readme).toContain(`web UI on http://127.0.0.1:${webPort}, API on :${apiPort}`);
  });

  it('documents every command of the accountdb CLI, and no other', () => {
    expect(cliCommands.length).toBeGreaterThan(5);
    const documented = new Set(
      [...readme.matchAll(/accountdb ([a-z]+(?:-[a-z]+)*)/g)].map((m) => m[1] as string),
    );
    for (const command of cliCommands) expect([...documented], command).toContain(command);
  });

  it('states the Node versions package.json and the Docker images have', () => {
    const minimum = /^>=(\d+\.\d+)$/.exec(pkg.engines.node)?.[1];
    expect(flat).toContain(`Needs Node.js ${minimum} or later`);
    const images = ['deploy/Dockerfile', 'deploy/agent/Dockerfile'].flatMap((file) =>
      [...read(file).matchAll(/^FROM node:(\d+)\./gm)].map((m) => m[1]),
    );
    expect(new Set(images).size).toBe(1);
    expect(flat).toContain(`the Docker images ship ${images[0]}`);
  });
});

describe('docs/architecture.md', () => {
  it('lists every CLI command', () => {
    const line = /\*\*CLI\*\*[\s\S]*?\n\n|\*\*CLI\*\*[\s\S]*?\n- /.exec(
      read('docs/architecture.md'),
    );
    for (const command of cliCommands) expect(line?.[0], command).toContain(`\`${command}\``);
  });
});
