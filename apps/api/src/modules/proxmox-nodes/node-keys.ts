import type { FastifyRequest } from 'fastify';
import { randomToken, sha256 } from '../../crypto/tokens.js';

export const NODE_KEY_PREFIX = 'adb_node_';
/** Characters of a node key stored in clear to find it. */
export const NODE_KEY_LOOKUP_LENGTH = NODE_KEY_PREFIX.length + 12;

/** A new agent key: the key (shown once) and what is stored of it. */
export function newNodeKey(): { key: string; prefix: string; hash: Buffer } {
  const key = randomToken(NODE_KEY_PREFIX);
  return { key, prefix: key.slice(0, NODE_KEY_LOOKUP_LENGTH), hash: sha256(key) };
}

/** The agent's environment file for a node, ready to paste into /etc/accountdb-agent.env. */
export function agentConfig(options: {
  request: FastifyRequest;
  nodeName: string;
  key: string;
  intervalS: number;
}): string {
  const url = `${options.request.protocol}://${options.request.host}`;
  return [
    `# AccountDB agent for Proxmox node "${options.nodeName}" — save as /etc/accountdb-agent.env (mode 0600)`,
    `ACCOUNTDB_URL=${url}`,
    `ACCOUNTDB_NODE_KEY=${options.key}`,
    '# A read-only Proxmox API token (see docs/agent.md: PVEAuditor on /, privilege separation on)',
    'PVE_URL=https://127.0.0.1:8006',
    'PVE_TOKEN_ID=accountdb@pve!sync',
    'PVE_TOKEN_SECRET=',
    'PVE_CA_FILE=/etc/pve/pve-root-ca.pem',
    `PVE_NODE=${options.nodeName}`,
    `SYNC_INTERVAL=${options.intervalS}`,
    '',
  ].join('\n');
}
