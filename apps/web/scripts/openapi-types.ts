/**
 * Generates the web's API types from the API's OpenAPI document. The document comes from the
 * real app, built in-process (no server, no port) over an in-memory embedded database, so the
 * types always describe the routes and schemas in apps/api/src. The result is formatted with
 * Biome, exactly as `npm run lint` wants it, so the committed file can be compared byte for byte.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';
import { buildApp } from '../../api/src/app.js';
import { loadConfig } from '../../api/src/config.js';
import { openDatabase } from '../../api/src/db/client.js';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** The committed file, relative to the repository root. */
export const SCHEMA_FILE = 'apps/web/src/api/schema.d.ts';

const HEADER = `/**
 * Generated from the API's OpenAPI document by apps/web/scripts/gen-api-types.ts
 * (npm run gen:api -w @accountdb/web). Do not edit by hand; a test fails when it drifts.
 */
`;

/** The OpenAPI document the API serves at GET /api/openapi.json. */
export async function openApiDocument(): Promise<Record<string, unknown>> {
  const config = loadConfig({
    NODE_ENV: 'test',
    ACCOUNTDB_DATA_DIR: path.join(tmpdir(), 'adb-openapi-unused'),
    ACCOUNTDB_SECRET_KEY: randomBytes(32).toString('base64'),
    ACCOUNTDB_JWT_SECRET: randomBytes(32).toString('base64'),
    LOG_LEVEL: 'silent',
  });
  const database = await openDatabase({});
  try {
    const app = await buildApp({ config, database, logStream: false });
    try {
      const res = await app.inject({ method: 'GET', url: '/api/openapi.json' });
      if (res.statusCode !== 200) throw new Error(`GET /api/openapi.json: ${res.statusCode}`);
      return res.json() as Record<string, unknown>;
    } finally {
      await app.close();
    }
  } finally {
    await database.close();
  }
}

/** Formats TypeScript source with the repository's Biome settings. */
function biomeFormat(source: string): string {
  const biome = path.join(ROOT, 'node_modules/@biomejs/biome/bin/biome');
  const res = spawnSync(process.execPath, [biome, 'format', `--stdin-file-path=${SCHEMA_FILE}`], {
    cwd: ROOT,
    input: source,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (res.status !== 0) throw new Error(`biome format failed: ${res.stderr}`);
  return res.stdout;
}

/** The content schema.d.ts must have. */
export async function generateSchemaTypes(): Promise<string> {
  const doc = await openApiDocument();
  // biome-ignore lint/suspicious/noExplicitAny: openapi-typescript's own document type
  const ast = await openapiTS(doc as any, { alphabetize: true });
  return biomeFormat(HEADER + astToString(ast));
}
