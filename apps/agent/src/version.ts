/** The agent's version, sent with every sync and heartbeat (kept equal to package.json by a test). */
export const AGENT_VERSION = '0.1.0';
