import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { generateSchemaTypes, ROOT, SCHEMA_FILE } from '../scripts/openapi-types.js';

/**
 * The committed API types are what the API's OpenAPI document generates today. When this
 * fails, an API route or schema changed: run `npm run gen:api -w @accountdb/web` and commit.
 */
it('apps/web/src/api/schema.d.ts matches the OpenAPI document of the API', async () => {
  const committed = readFileSync(path.join(ROOT, SCHEMA_FILE), 'utf8');
  const generated = await generateSchemaTypes();
  expect(
    generated === committed,
    `${SCHEMA_FILE} is out of date: run npm run gen:api -w @accountdb/web`,
  ).toBe(true);
  // Builds the whole API in memory: slow on a busy machine.
}, 120_000);
