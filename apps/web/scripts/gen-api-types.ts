// Writes src/api/schema.d.ts from the API's OpenAPI document: npm run gen:api -w @accountdb/web
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { generateSchemaTypes, ROOT, SCHEMA_FILE } from './openapi-types.js';

const content = await generateSchemaTypes();
writeFileSync(path.join(ROOT, SCHEMA_FILE), content);
process.stdout.write(`wrote ${SCHEMA_FILE} (${content.length} bytes)\n`);
