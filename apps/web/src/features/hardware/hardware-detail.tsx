'use client';

import { useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useState } from 'react';
import { toast } from 'sonner';
import { ApiError, problemMessage } from '../../api/problem';
import { CopyButton } from '../../components/copy-button';
import { DeleteButton } from '../../components/delete-button';
import { DetailLoadState } from '../../components/detail-load-state';
import { Button, Card, PageHeader, Tags } from '../../components/ui';
import { api, unwrap } from '../../lib/api';
import { saveEdit } from '../../lib/save-edit';
import { ago } from '../../lib/time';
import { AccountPicker } from '../accounts/account-picker';
import { OwnerBanner } from '../scope/owner-banner';
import { CollisionsBanner } from './collisions-banner';
import { HardwareForm } from './hardware-form';
import {
  HARDWARE_FIELDS,
  type HardwarePatch,
  hardwareKeys,
  patchHardware,
  useHardware,
} from './queries';
import { VmLinks } from './vm-links';

/** One hardware profile: its identifiers (copyable), collisions, links and notes. */
export function HardwareDetail({ id }: { id: string }) {
  const query = useHardware(id);
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState(false);

  if (query.isPending || query.isError) {
    return (
      <DetailLoadState
        pending={query.isPending}
        error={query.error}
        what="Hardware profile"
        listHref="/hardware"
        listLabel="hardware"
      />
    );
  }
  const { hardware, etag } = query.data;
  const refresh = () => queryClient.invalidateQueries({ queryKey: hardwareKeys.all });
  const save = async (body: HardwarePatch) => {
    const saved = await saveEdit({
      save: () => patchHardware(id, body, etag),
      what: 'hardware profile',
      refresh,
    });
    if (saved) await refresh();
    return saved;
  };

  const filled = HARDWARE_FIELDS.filter(([field]) => hardware[field]);
  return (
    <div className="space-y-4">
      <OwnerBanner owner={hardware.owner} />
      <PageHeader
        title={hardware.pcname ?? hardware.mac_address ?? 'Hardware profile'}
        description={
          <>
            <Link href="/hardware" className="hover:underline">
              Hardware
            </Link>{' '}
            / updated {ago(hardware.updated_at)}
          </>
        }
        actions={
          editing ? null : (
            <>
              <Button variant="secondary" onClick={() => setEditing(true)}>
                Edit
              </Button>
              <DeleteButton
                title="Delete this hardware profile?"
                message="It is removed for good; the account and VM it was linked to stay."
                confirmLabel="Delete profile"
                done="Deleted."
                remove={async () =>
                  unwrap(await api.DELETE('/api/v1/hardware/{id}', { params: { path: { id } } }))
                }
                listHref="/hardware"
                queryKeys={{ list: hardwareKeys.all, one: hardwareKeys.one(id) }}
              />
            </>
          )
        }
      />
      <CollisionsBanner hardwareId={id} />
      {editing ? (
        <Card title="Edit hardware profile">
          <HardwareForm
            hardware={hardware}
            submitLabel="Save changes"
            onCancel={() => setEditing(false)}
            onSubmit={async (body) => {
              await save(body);
              setEditing(false);
            }}
          />
        </Card>
      ) : (
        <div className="grid gap-4 lg:grid-cols-2">
          <Card title="Identifiers">
            {filled.length === 0 ? (
              <p className="text-sm text-zinc-500">No identifier is filled in.</p>
            ) : (
              <dl className="space-y-2 text-sm">
                {filled.map(([field, label]) => (
                  <div key={field} className="flex flex-wrap items-center gap-2">
                    <dt className="w-44 font-medium text-zinc-500">{label}</dt>
                    <dd className="flex items-center gap-2 font-mono text-xs">
                      {hardware[field] as string}
                      <CopyButton text={hardware[field] as string} what={label} label="Copy" />
                    </dd>
                  </div>
                ))}
              </dl>
            )}
          </Card>
          <Card title="Links">
            <div className="space-y-3 text-sm">
              <AccountPicker
                accountId={hardware.account_id}
                onChange={async (accountId) => {
                  try {
                    await save({ account_id: accountId });
                  } catch (error) {
                    toast.error(
                      error instanceof ApiError
                        ? problemMessage(error.problem, error.message)
                        : String(error),
                    );
                  }
                }}
              />
              <VmLinks
                hardware={hardware}
                onLink={async (vmId) => {
                  try {
                    await save({ vm_id: vmId });
                  } catch (error) {
                    toast.error(
                      error instanceof ApiError
                        ? problemMessage(error.problem, error.message)
                        : String(error),
                    );
                  }
                }}
              />
              <div>
                <span className="font-medium text-zinc-500">Tags:</span>{' '}
                <Tags tags={hardware.tags} />
              </div>
              {hardware.notes ? <p className="whitespace-pre-wrap">{hardware.notes}</p> : null}
              <p className="text-xs text-zinc-500">
                Added {new Date(hardware.created_at).toLocaleString()}, updated{' '}
                {ago(hardware.updated_at)}.
              </p>
            </div>
          </Card>
        </div>
      )}
    </div>
  );
}
