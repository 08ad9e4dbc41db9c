import { Writable } from 'node:stream';
import { Agent, type AgentOptions } from '../../src/agent.js';
import type { AgentSettings } from '../../src/config.js';
import { createLogger, type Logger } from '../../src/log.js';

/** A logger that keeps its JSON lines in memory (to assert on them, e.g. that no secret leaks). */
export function memoryLogger(level: AgentSettings['logLevel'] = 'debug'): {
  log: Logger;
  lines: string[];
} {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  return { log: createLogger(level, stream), lines };
}

export function testSettings(
  pveUrl: string,
  accountdbUrl: string,
  key: string,
  overrides: Partial<AgentSettings> = {},
): AgentSettings {
  return {
    accountdbUrl,
    nodeKey: key,
    accountdbCa: undefined,
    pveUrl,
    pveTokenId: 'accountdb@pve!sync',
    pveTokenSecret: 'secret-uuid',
    pveTls: { mode: 'plain' },
    pveNode: undefined,
    syncIntervalS: 60,
    healthPort: undefined,
    healthHost: '127.0.0.1',
    logLevel: 'silent',
    stateFile: undefined,
    ...overrides,
  };
}

export function testAgent(
  settings: AgentSettings,
  options: Partial<AgentOptions> = {},
): { agent: Agent; lines: string[] } {
  const { log, lines } = memoryLogger();
  const agent = new Agent({ settings, log, ...options });
  return { agent, lines };
}
