'use client';

import { copyText } from '../../components/copy-button';
import { Button, Card } from '../../components/ui';

/** What to run on the Proxmox host (docs/agent.md, "Install"). */
export const INSTALL_COMMANDS = `# On a machine with the AccountDB repository: build the agent (one file)
npm install && npm run bundle -w @accountdb/agent
# Copy it and the installer to the Proxmox host
scp apps/agent/dist/accountdb-agent.mjs -r deploy/agent root@PROXMOX-HOST:
# On the Proxmox host
apt-get install -y nodejs
./agent/install.sh --bundle ./accountdb-agent.mjs
# Paste the settings above into /etc/accountdb-agent.env, add PVE_TOKEN_SECRET, then
accountdb-agent check && systemctl start accountdb-agent`;

/**
 * A node's agent key, shown once after registration or rotation, with the agent settings that
 * carry it and the install commands. The key lives only in this component's props: closing it
 * forgets the key, and nothing stores it.
 */
export function AgentKeyPanel({
  nodeName,
  apiKey,
  agentConfig,
  rotated,
  onClose,
}: {
  nodeName: string;
  apiKey: string;
  agentConfig: string;
  rotated?: boolean;
  onClose: () => void;
}) {
  return (
    <Card
      title={rotated ? `New agent key for ${nodeName}` : `Agent key for ${nodeName}`}
      className="border-amber-300 dark:border-amber-800"
    >
      <div className="space-y-4 text-sm">
        <p
          role="alert"
          className="rounded-md bg-amber-50 p-3 text-amber-900 dark:bg-amber-950/50 dark:text-amber-200"
        >
          This key is shown only now. Copy it (or the settings below) before you leave: AccountDB
          keeps only its hash. {rotated ? 'The previous key has stopped working.' : ''}
        </p>
        <div className="flex flex-wrap items-center gap-2">
          <code
            data-testid="node-api-key"
            className="flex-1 rounded bg-zinc-100 px-2 py-1.5 font-mono text-sm break-all dark:bg-zinc-800"
          >
            {apiKey}
          </code>
          <Button variant="secondary" onClick={() => copyText(apiKey, { what: 'agent key' })}>
            Copy key
          </Button>
        </div>
        <div>
          <div className="mb-1 flex items-center justify-between">
            <h3 className="font-medium">Agent settings (/etc/accountdb-agent.env)</h3>
            <Button
              variant="secondary"
              onClick={() => copyText(agentConfig, { what: 'agent settings' })}
            >
              Copy settings
            </Button>
          </div>
          <pre className="overflow-x-auto rounded bg-zinc-950 p-3 font-mono text-xs text-zinc-100">
            {agentConfig}
          </pre>
          <p className="mt-1 text-xs text-zinc-500">
            Fill in PVE_TOKEN_SECRET with a read-only Proxmox API token (role PVEAuditor on /), as
            described in docs/agent.md.
          </p>
        </div>
        <div>
          <div className="mb-1 flex items-center justify-between">
            <h3 className="font-medium">Install on the Proxmox host</h3>
            <Button
              variant="secondary"
              onClick={() => copyText(INSTALL_COMMANDS, { what: 'install commands' })}
            >
              Copy commands
            </Button>
          </div>
          <pre className="overflow-x-auto rounded bg-zinc-950 p-3 font-mono text-xs text-zinc-100">
            {INSTALL_COMMANDS}
          </pre>
        </div>
        <Button onClick={onClose}>I have saved the key</Button>
      </div>
    </Card>
  );
}
