'use client';

import { useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useState } from 'react';
import { toast } from 'sonner';
import { ApiError, problemMessage } from '../../api/problem';
import { CopyButton } from '../../components/copy-button';
import { DeleteButton } from '../../components/delete-button';
import { DetailLoadState } from '../../components/detail-load-state';
import { TagInput } from '../../components/tag-input';
import { StatusTimeline } from '../../components/timeline';
import { Button, Card, DetailList, PageHeader, StatusBadge, Tags } from '../../components/ui';
import { api, unwrap } from '../../lib/api';
import { saveEdit } from '../../lib/save-edit';
import { ago, duration } from '../../lib/time';
import { AccountPicker } from '../accounts/account-picker';
import { useNodeOptions } from '../nodes/queries';
import { OwnerBanner } from '../scope/owner-banner';
import { ShareButton } from '../sharing/share-dialog';
import { SharedBanner } from '../sharing/shared-badge';
import { patchVm, useVm, useVmEvents, type VmPatch, vmKeys } from './queries';
import { VmForm } from './vm-form';
import { VmStatusBadge } from './vm-status-badge';

/** One VM: node, status and its history, addresses, tags, notes and the assigned account. */
export function VmDetail({ id }: { id: string }) {
  const query = useVm(id);
  const events = useVmEvents(id);
  const nodes = useNodeOptions();
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState(false);
  const [notes, setNotes] = useState<string | null>(null);

  if (query.isPending || query.isError) {
    return (
      <DetailLoadState
        pending={query.isPending}
        error={query.error}
        what="VM"
        listHref="/vms"
        listLabel="VMs"
      />
    );
  }
  const { vm, etag } = query.data;
  const node = nodes.data?.find((n) => n.id === vm.node_id);
  const refresh = () => queryClient.invalidateQueries({ queryKey: vmKeys.all });
  /** Saves a change; a refused one is shown as a toast and rethrown (the caller stays as is). */
  const save = async (body: VmPatch) => {
    try {
      if (await saveEdit({ save: () => patchVm(id, body, etag), what: 'VM', refresh }))
        await refresh();
    } catch (error) {
      toast.error(
        error instanceof ApiError ? problemMessage(error.problem, error.message) : String(error),
      );
      await refresh();
      throw error;
    }
  };

  const title = vm.name ?? `VM ${vm.vmid ?? ''}`;
  return (
    <div className="space-y-4">
      <OwnerBanner owner={vm.owner} />
      <SharedBanner sharedBy={vm.shared_by} permission={vm.permission} />
      <PageHeader
        title={
          <span className="flex flex-wrap items-center gap-3">
            {title} <VmStatusBadge status={vm.status} />
            {vm.absent_since ? <StatusBadge status="absent" /> : null}
          </span>
        }
        description={
          <>
            <Link href="/vms" className="hover:underline">
              VMs
            </Link>{' '}
            / {vm.type} {vm.vmid ?? ''} on{' '}
            {vm.node_id ? (
              <Link
                href={`/nodes/${vm.node_id}`}
                className="text-indigo-700 hover:underline dark:text-indigo-300"
              >
                {node?.name ?? 'its node'}
              </Link>
            ) : (
              'no node'
            )}
          </>
        }
        actions={
          editing ? null : (
            <>
              {vm.source === 'manual' && (!vm.shared_by || vm.permission === 'write') ? (
                <Button variant="secondary" onClick={() => setEditing(true)}>
                  Edit
                </Button>
              ) : null}
              {!vm.shared_by && !vm.owner ? (
                <ShareButton objectType="vm" objectId={id} name={title} />
              ) : null}
              {vm.shared_by ? null : (
                <DeleteButton
                  title={`Delete ${title}?`}
                  message={
                    vm.source === 'agent'
                      ? 'It is removed with its status history. If it still exists on its node, the agent brings it back with the next sync (without your notes and tags).'
                      : 'It is removed with its status history.'
                  }
                  confirmLabel="Delete VM"
                  done={`Deleted ${title}.`}
                  remove={async () =>
                    unwrap(await api.DELETE('/api/v1/vms/{id}', { params: { path: { id } } }))
                  }
                  listHref="/vms"
                  queryKeys={{ list: vmKeys.all, one: vmKeys.one(id) }}
                />
              )}
            </>
          )
        }
      />
      {vm.absent_since ? (
        <p
          role="status"
          className="rounded-md bg-amber-50 p-3 text-sm text-amber-900 dark:bg-amber-950/50 dark:text-amber-200"
        >
          Missing from its node since {ago(vm.absent_since)}: the last complete sync did not list it
          (deleted or migrated to a node without an agent).
        </p>
      ) : null}

      {editing ? (
        <Card title="Edit VM">
          <VmForm
            vm={vm}
            submitLabel="Save changes"
            onCancel={() => setEditing(false)}
            onSubmit={async (body) => {
              await saveEdit({ save: () => patchVm(id, body, etag), what: 'VM', refresh });
              setEditing(false);
              await refresh();
            }}
          />
        </Card>
      ) : (
        <div className="grid gap-4 lg:grid-cols-2">
          <Card title="Details">
            <DetailList
              items={[
                ['VMID', vm.vmid ?? '—'],
                ['Type', vm.type === 'qemu' ? 'VM (qemu)' : 'container (lxc)'],
                ['Status', <VmStatusBadge key="s" status={vm.status} />],
                ['Lock', vm.pve_lock ?? 'none'],
                ['Template', vm.template ? 'yes' : 'no'],
                [
                  'CPU',
                  vm.cpu_cores === null
                    ? '—'
                    : `${vm.cpu_cores} cores${vm.cpu_usage != null ? `, ${Math.round(vm.cpu_usage * 100)} % used` : ''}`,
                ],
                ['Memory', vm.memory_mb === null ? '—' : `${vm.memory_mb} MiB`],
                ['Disk', vm.disk_gb === null ? '—' : `${vm.disk_gb} GB`],
                ['Uptime', vm.uptime_s ? duration(vm.uptime_s) : '—'],
                [
                  'SMBIOS UUID',
                  vm.smbios_uuid ? (
                    <span key="u" className="flex items-center gap-2 font-mono text-xs">
                      {vm.smbios_uuid} <CopyButton text={vm.smbios_uuid} what="UUID" label="Copy" />
                    </span>
                  ) : (
                    '—'
                  ),
                ],
                ['Source', vm.source === 'agent' ? 'the node’s agent' : 'entered by hand'],
                ['Last seen', ago(vm.last_seen_at)],
                ['Proxmox tags', <Tags key="p" tags={vm.pve_tags} />],
              ]}
            />
            {vm.description ? (
              <p className="mt-3 text-sm whitespace-pre-wrap text-zinc-600 dark:text-zinc-300">
                {vm.description}
              </p>
            ) : null}
          </Card>
          <Card title="Addresses">
            <h3 className="text-sm font-medium">IP addresses</h3>
            <ul className="mt-1 mb-3 space-y-1">
              {vm.ip_addresses.length === 0 ? (
                <li className="text-sm text-zinc-500">
                  none reported (the guest agent may not run in the VM)
                </li>
              ) : (
                vm.ip_addresses.map((ip) => (
                  <li key={ip} className="flex items-center gap-2 font-mono text-sm">
                    {ip} <CopyButton text={ip} what={`address ${ip}`} label="Copy" />
                  </li>
                ))
              )}
            </ul>
            <h3 className="text-sm font-medium">MAC addresses</h3>
            <ul className="mt-1 space-y-1">
              {vm.mac_addresses.length === 0 ? (
                <li className="text-sm text-zinc-500">none</li>
              ) : (
                vm.mac_addresses.map((mac) => (
                  <li key={mac} className="flex items-center gap-2 font-mono text-sm">
                    {mac} <CopyButton text={mac} what={`MAC ${mac}`} label="Copy" />
                  </li>
                ))
              )}
            </ul>
          </Card>
          <Card title="Yours">
            <div className="space-y-4">
              <AccountPicker
                accountId={vm.account_id}
                onChange={(accountId) => save({ account_id: accountId })}
              />
              <TagInput
                label="Tags"
                value={vm.tags}
                onChange={(tags) => void save({ tags }).catch(() => undefined)}
              />
              <div className="space-y-1">
                <label htmlFor="vm-notes" className="block text-sm font-medium">
                  Notes
                </label>
                <textarea
                  id="vm-notes"
                  rows={4}
                  value={notes ?? vm.notes ?? ''}
                  onChange={(event) => setNotes(event.target.value)}
                  className="block w-full rounded-md border border-zinc-300 bg-white px-3 py-2 text-sm dark:border-zinc-700 dark:bg-zinc-900"
                />
                {notes !== null && notes !== (vm.notes ?? '') ? (
                  <div className="flex gap-2">
                    <Button
                      onClick={async () => {
                        await save({ notes: notes || null }).catch(() => undefined);
                        setNotes(null);
                      }}
                    >
                      Save notes
                    </Button>
                    <Button variant="ghost" onClick={() => setNotes(null)}>
                      Discard
                    </Button>
                  </div>
                ) : (
                  <p className="text-xs text-zinc-500">
                    Your notes and tags are never changed by the agent.
                  </p>
                )}
              </div>
            </div>
          </Card>
          <Card title="Status history">
            {events.isPending ? (
              <p className="text-sm text-zinc-500">Loading…</p>
            ) : events.isError ? (
              <p className="text-sm text-red-600">The history could not be loaded.</p>
            ) : (
              <StatusTimeline
                entries={events.data.map((e, i) => ({
                  id: `${e.at}-${i}`,
                  at: e.at,
                  status: e.to_status,
                  from: e.from_status,
                }))}
              />
            )}
          </Card>
        </div>
      )}
    </div>
  );
}
