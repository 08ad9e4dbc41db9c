'use client';

import { useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { type ReactNode, useState } from 'react';
import { toast } from 'sonner';
import { ApiError, problemMessage } from '../../api/problem';
import { DeleteButton } from '../../components/delete-button';
import { DetailLoadState } from '../../components/detail-load-state';
import { ConfirmDialog } from '../../components/dialog';
import { Button, Card, DetailList, PageHeader, StatusBadge, Tags } from '../../components/ui';
import { api, unwrap, useSession } from '../../lib/api';
import { saveEdit } from '../../lib/save-edit';
import { ago } from '../../lib/time';
import { OwnerBanner } from '../scope/owner-banner';
import { ShareButton } from '../sharing/share-dialog';
import { SharedBanner } from '../sharing/shared-badge';
import { AgentKeyPanel } from './agent-key-panel';
import { NodeForm } from './node-form';
import { nodeKeys, type ProxmoxNode, patchNode, useNode } from './queries';
import { WhitelistEditor } from './whitelist-editor';

const when = (iso: string | null) =>
  iso ? (
    <time dateTime={iso} title={new Date(iso).toLocaleString()}>
      {ago(iso)}
    </time>
  ) : (
    'never'
  );

const STAT_LABELS: Record<string, string> = {
  created: 'New',
  updated: 'Changed',
  unchanged: 'Unchanged',
  absent: 'Gone (absent)',
  returned: 'Back',
  ignored: 'Skipped (whitelist)',
};

/** One node: health, sync figures, last error, settings, agent key rotation and the whitelist. */
export function NodeDetail({ id }: { id: string }) {
  const query = useNode(id);
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState(false);
  const [confirmRotate, setConfirmRotate] = useState(false);
  const [busy, setBusy] = useState(false);
  const [rotated, setRotated] = useState<ProxmoxNode | null>(null);
  const [syncing, setSyncing] = useState(false);
  const current = useSession();

  if (query.isPending || query.isError) {
    return (
      <DetailLoadState
        pending={query.isPending}
        error={query.error}
        what="Node"
        listHref="/nodes"
        listLabel="nodes"
      />
    );
  }
  const { node, etag } = query.data;
  const refresh = () => queryClient.invalidateQueries({ queryKey: nodeKeys.all });
  const fail = (error: unknown) =>
    toast.error(
      error instanceof ApiError ? problemMessage(error.problem, error.message) : String(error),
    );
  const whitelistCall = async (call: () => Promise<unknown>) => {
    try {
      await call();
      await refresh();
    } catch (error) {
      fail(error);
    }
  };

  const rotate = async () => {
    setBusy(true);
    try {
      setRotated(
        unwrap(
          await api.POST('/api/v1/proxmox-nodes/{id}/rotate-key', { params: { path: { id } } }),
        ),
      );
      await refresh();
    } catch (error) {
      fail(error);
    } finally {
      setBusy(false);
      setConfirmRotate(false);
    }
  };

  // Only the node's owner may ask its agent to sync (an admin sees other users' nodes too).
  const mine = current?.user.id === node.owner_id;
  const syncNow = async () => {
    setSyncing(true);
    try {
      unwrap(await api.POST('/api/v1/proxmox-nodes/{id}/sync-now', { params: { path: { id } } }));
      toast.success(`Asked ${node.name}'s agent to sync; it does on its next config poll.`);
      await refresh();
    } catch (error) {
      fail(error);
    } finally {
      setSyncing(false);
    }
  };
  const duration = node.last_sync_stats?.duration_ms;

  const stats = Object.entries(node.last_sync_stats ?? {}).filter(
    ([k, v]) => k in STAT_LABELS && typeof v === 'number',
  );
  return (
    <div className="space-y-4">
      <OwnerBanner owner={node.owner} />
      <SharedBanner sharedBy={node.shared_by} permission={node.permission} />
      <PageHeader
        title={
          <span className="flex items-center gap-3">
            {node.name} <StatusBadge status={node.status} />
          </span>
        }
        description={
          <>
            <Link href="/nodes" className="hover:underline">
              Nodes
            </Link>{' '}
            / {node.hostname ?? 'no host name'} ·{' '}
            <Link
              href={`/vms?node_id=${node.id}`}
              className="text-indigo-700 hover:underline dark:text-indigo-300"
            >
              VMs on this node
            </Link>
          </>
        }
        actions={
          editing || rotated ? null : (
            <>
              {mine ? (
                <Button
                  variant="secondary"
                  onClick={syncNow}
                  disabled={syncing || node.sync_requested_at !== null}
                  title="The agent runs a sync cycle on its next config poll (within about 10 s)"
                >
                  {node.sync_requested_at !== null ? 'Sync requested…' : 'Sync now'}
                </Button>
              ) : null}
              {!node.shared_by || node.permission === 'write' ? (
                <Button variant="secondary" onClick={() => setEditing(true)}>
                  Edit
                </Button>
              ) : null}
              {!node.shared_by && !node.owner ? (
                <ShareButton objectType="proxmox_node" objectId={id} name={node.name} />
              ) : null}
              {node.shared_by ? null : (
                <Button variant="secondary" onClick={() => setConfirmRotate(true)}>
                  Rotate key
                </Button>
              )}
              {node.shared_by ? null : (
                <DeleteButton
                  title={`Delete ${node.name}?`}
                  message="Its agent key stops working. The VMs synced from it stay, without their node."
                  confirmLabel="Delete node"
                  done={`Deleted ${node.name}.`}
                  remove={async () =>
                    unwrap(
                      await api.DELETE('/api/v1/proxmox-nodes/{id}', { params: { path: { id } } }),
                    )
                  }
                  listHref="/nodes"
                  queryKeys={{ list: nodeKeys.all, one: nodeKeys.one(id) }}
                />
              )}
            </>
          )
        }
      />

      {rotated?.api_key && rotated.agent_config ? (
        <AgentKeyPanel
          nodeName={rotated.name}
          apiKey={rotated.api_key}
          agentConfig={rotated.agent_config}
          rotated
          onClose={() => setRotated(null)}
        />
      ) : null}

      {editing ? (
        <Card title="Edit node">
          <NodeForm
            node={node}
            submitLabel="Save changes"
            onCancel={() => setEditing(false)}
            onSubmit={async (body) => {
              await saveEdit({ save: () => patchNode(id, body, etag), what: 'node', refresh });
              setEditing(false);
              await refresh();
            }}
          />
        </Card>
      ) : (
        <div className="grid gap-4 lg:grid-cols-2">
          <Card title="Health">
            <DetailList
              items={[
                ['Status', <StatusBadge key="s" status={node.status} />],
                ['Last seen', when(node.last_seen_at)],
                ['Last sync', when(node.last_sync_at)],
                [
                  'Last cycle took',
                  typeof duration === 'number' ? `${(duration / 1000).toFixed(1)} s` : '—',
                ],
                ...(node.sync_requested_at
                  ? [['Sync requested', when(node.sync_requested_at)] as [string, ReactNode]]
                  : []),
                [
                  'Last error',
                  node.last_error ? (
                    <span key="e" className="text-red-700 dark:text-red-300">
                      {node.last_error}
                    </span>
                  ) : (
                    'none'
                  ),
                ],
                ['Agent', node.agent_version ?? '—'],
                ['Proxmox VE', node.pve_version ?? '—'],
                ['Sync interval', `${node.sync_interval_s} s`],
                [
                  'Agent key',
                  `${node.api_key_prefix}… ${node.api_key_rotated_at ? `(rotated ${ago(node.api_key_rotated_at)})` : ''}`,
                ],
              ]}
            />
            {node.status === 'pending' ? (
              <p className="mt-3 text-sm text-zinc-500">
                The agent has not reported yet. Install it on the node with the settings shown when
                the node was registered (or rotate the key to get new ones).
              </p>
            ) : null}
          </Card>
          <Card title="Last sync">
            {stats.length === 0 ? (
              <p className="text-sm text-zinc-500">No sync yet.</p>
            ) : (
              <dl className="grid grid-cols-2 gap-3 sm:grid-cols-3">
                {stats.map(([key, value]) => (
                  <div key={key} className="rounded-md bg-zinc-50 p-2 dark:bg-zinc-800/50">
                    <dt className="text-xs text-zinc-500">{STAT_LABELS[key]}</dt>
                    <dd className="text-xl font-semibold tabular-nums">{value as number}</dd>
                  </div>
                ))}
              </dl>
            )}
          </Card>
          <Card title="Whitelist">
            <WhitelistEditor
              mode={node.sync_mode}
              whitelist={node.whitelist}
              skipped={node.skipped_vmids}
              onMode={(mode) => whitelistCall(() => patchNode(id, { sync_mode: mode }))}
              onAdd={(vmid) =>
                whitelistCall(async () =>
                  unwrap(
                    await api.POST('/api/v1/proxmox-nodes/{id}/whitelist/{vmid}', {
                      params: { path: { id, vmid } },
                    }),
                  ),
                )
              }
              onRemove={(vmid) =>
                whitelistCall(async () =>
                  unwrap(
                    await api.DELETE('/api/v1/proxmox-nodes/{id}/whitelist/{vmid}', {
                      params: { path: { id, vmid } },
                    }),
                  ),
                )
              }
              onAddAll={(vmids) =>
                whitelistCall(async () =>
                  unwrap(
                    await api.PUT('/api/v1/proxmox-nodes/{id}/whitelist', {
                      params: { path: { id } },
                      body: { vmids: [...node.whitelist, ...vmids] },
                    }),
                  ),
                )
              }
            />
          </Card>
          <Card title="Details">
            <DetailList
              items={[
                ['Host', node.hostname ? `${node.hostname}:${node.port}` : '—'],
                ['Cluster', node.cluster ?? '—'],
                ['Tags', <Tags key="t" tags={node.tags} />],
                ['Registered', when(node.created_at)],
              ]}
            />
            {node.notes ? <p className="mt-3 text-sm whitespace-pre-wrap">{node.notes}</p> : null}
          </Card>
        </div>
      )}

      <ConfirmDialog
        open={confirmRotate}
        title={`Rotate the agent key of ${node.name}?`}
        message="A new key is made and shown once. The current key stops working at once: the agent on the node cannot sync until its settings have the new key."
        confirmLabel="Rotate key"
        busy={busy}
        onConfirm={rotate}
        onCancel={() => setConfirmRotate(false)}
      />
    </div>
  );
}
