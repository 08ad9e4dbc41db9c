import type { FastifyRequest } from 'fastify';
import { AppError } from '../../http/errors.js';
import { NO_CONTROL_CHARACTERS } from '../../http/text-patterns.js';

/**
 * The agent's environment file, ready to paste into /etc/accountdb-agent.env. Three readers
 * take that file: systemd (`EnvironmentFile=`), the agent's own parser (`--config`,
 * apps/agent/src/config.ts) and a POSIX shell (`set -a; . file`). A value they all read the
 * same way is either bare (letters, digits and `_@%+=:,./!-`) or in double quotes with `\`,
 * `"`, `$` and backquote escaped by a backslash, which are exactly the escapes systemd and a
 * shell undo inside double quotes (and the agent's parser too). A control character (a line
 * break above all) has no safe spelling in all three, so a value holding one is refused:
 * a name with a line break would otherwise add settings of its own.
 */

const BARE = /^[A-Za-z0-9_@%+=:,./!-]*$/;
const SINGLE_LINE = new RegExp(NO_CONTROL_CHARACTERS, 'u');

export class AgentConfigError extends AppError {
  constructor(what: string) {
    super(
      422,
      'invalid_agent_config',
      `The ${what} contains control characters, which cannot be written into the agent configuration.` +
        (what === "node's name"
          ? ' Rename the node (PATCH /proxmox-nodes/{id} with a new name), then rotate its key again.'
          : ''),
    );
  }
}

/** `KEY=value`, the value quoted when it needs to be (see above); control characters refused. */
export function envAssignment(key: string, value: string, what = key): string {
  if (!SINGLE_LINE.test(value)) throw new AgentConfigError(what);
  if (BARE.test(value)) return `${key}=${value}`;
  return `${key}="${value.replace(/[\\"$`]/g, '\\$&')}"`;
}

export function agentConfig(options: {
  request: FastifyRequest;
  nodeName: string;
  key: string;
  intervalS: number;
}): string {
  const { nodeName } = options;
  const url = `${options.request.protocol}://${options.request.host}`;
  const node = envAssignment('PVE_NODE', nodeName, "node's name");
  return [
    // JSON spelling: the name cannot end the comment line, whatever it holds.
    `# AccountDB agent for Proxmox node ${JSON.stringify(nodeName)} — save as /etc/accountdb-agent.env (mode 0600)`,
    envAssignment('ACCOUNTDB_URL', url, 'address of this server (Host header)'),
    envAssignment('ACCOUNTDB_NODE_KEY', options.key),
    '# A read-only Proxmox API token (see docs/agent.md: PVEAuditor on /, privilege separation on)',
    'PVE_URL=https://127.0.0.1:8006',
    'PVE_TOKEN_ID=accountdb@pve!sync',
    'PVE_TOKEN_SECRET=',
    'PVE_CA_FILE=/etc/pve/pve-root-ca.pem',
    node,
    envAssignment('SYNC_INTERVAL', String(options.intervalS)),
    '',
  ].join('\n');
}
