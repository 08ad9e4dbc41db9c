'use client';

import { useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { Card, PageHeader } from '../../components/ui';
import { api, unwrap } from '../../lib/api';
import { AgentKeyPanel } from './agent-key-panel';
import { NodeForm } from './node-form';
import { nodeKeys, type ProxmoxNode } from './queries';

/** Register a node, then show its agent key once; "I have saved the key" goes to the node. */
export function RegisterNode() {
  const router = useRouter();
  const queryClient = useQueryClient();
  const [created, setCreated] = useState<ProxmoxNode | null>(null);
  return (
    <>
      <PageHeader
        title="Register node"
        description={
          <>
            <Link href="/nodes" className="hover:underline">
              Nodes
            </Link>{' '}
            / new. AccountDB answers with a key for the node&apos;s agent.
          </>
        }
      />
      {created?.api_key && created.agent_config ? (
        <AgentKeyPanel
          nodeName={created.name}
          apiKey={created.api_key}
          agentConfig={created.agent_config}
          onClose={() => {
            const id = created.id;
            setCreated(null);
            router.push(`/nodes/${id}`);
          }}
        />
      ) : (
        <Card>
          <NodeForm
            submitLabel="Register node"
            onCancel={() => router.push('/nodes')}
            onSubmit={async (body) => {
              const node = unwrap(await api.POST('/api/v1/proxmox-nodes', { body }));
              await queryClient.invalidateQueries({ queryKey: nodeKeys.all });
              setCreated(node);
            }}
          />
        </Card>
      )}
    </>
  );
}
