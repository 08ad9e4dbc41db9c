import { type DestinationStream, destination, type Logger, pino, stdTimeFunctions } from 'pino';
import type { LogLevel } from './config.js';

export type { Logger };

/**
 * Structured JSON logs (pino) for journald. Secrets never reach a log line: the settings
 * object is never logged whole (see `describeConfig`), and these paths are redacted in case
 * one ever is.
 */
export const REDACT_PATHS = [
  'nodeKey',
  'pveTokenSecret',
  'authorization',
  'headers.authorization',
  'settings.nodeKey',
  'settings.pveTokenSecret',
  '*.nodeKey',
  '*.pveTokenSecret',
  '*.authorization',
  'ACCOUNTDB_NODE_KEY',
  'PVE_TOKEN_SECRET',
  '*.ACCOUNTDB_NODE_KEY',
  '*.PVE_TOKEN_SECRET',
];

export function createLogger(level: LogLevel, stream?: DestinationStream): Logger {
  return pino(
    {
      name: 'accountdb-agent',
      level,
      base: { pid: process.pid },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: stdTimeFunctions.isoTime,
    },
    stream ?? destination({ dest: 1, sync: true }),
  );
}
