#!/usr/bin/env node
// Runs the bundled agent when present (npm run bundle -w @accountdb/agent), else the
// TypeScript source through tsx (development).
import { existsSync } from 'node:fs';

const bundled = new URL('../dist/accountdb-agent.mjs', import.meta.url);
if (existsSync(bundled)) {
  await import(bundled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../src/cli.ts', import.meta.url).href);
}
