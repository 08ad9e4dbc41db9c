import { randomToken, sha256 } from '../../crypto/tokens.js';

export const NODE_KEY_PREFIX = 'adb_node_';
/** Characters of a node key stored in clear to find it. */
export const NODE_KEY_LOOKUP_LENGTH = NODE_KEY_PREFIX.length + 12;

/** A new agent key: the key (shown once) and what is stored of it. */
export function newNodeKey(): { key: string; prefix: string; hash: Buffer } {
  const key = randomToken(NODE_KEY_PREFIX);
  return { key, prefix: key.slice(0, NODE_KEY_LOOKUP_LENGTH), hash: sha256(key) };
}
