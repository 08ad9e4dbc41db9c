import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import {
  AgentConfig,
  HeartbeatBody,
  SyncBody,
  SyncResult,
} from '../../../api/src/modules/agent/schemas.js';

/**
 * The server's own agent schemas (apps/api/src/modules/agent/schemas.ts) compiled the way
 * the API validates bodies (strict: nothing coerced, unknown fields refused), so the tests
 * prove every body the agent sends would be accepted.
 */
const ajv = new Ajv({
  coerceTypes: false,
  useDefaults: true,
  allErrors: true,
  removeAdditional: false,
  strict: false,
});
(addFormats as unknown as (a: Ajv) => void)(ajv);

const compile = (schema: object) => ajv.compile(JSON.parse(JSON.stringify(schema)));

export const validate = {
  syncBody: compile(SyncBody),
  heartbeat: compile(HeartbeatBody),
  config: compile(AgentConfig),
  syncResult: compile(SyncResult),
};

export function contractErrors(
  fn: (typeof validate)[keyof typeof validate],
  value: unknown,
): string[] {
  return fn(value) ? [] : (fn.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}
