'use client';

import Link from 'next/link';
import { useState } from 'react';
import { Button, StatusBadge } from '../../components/ui';
import { type Hardware, useVmName, useVmsSharing } from './queries';

const LINK = 'text-indigo-700 hover:underline dark:text-indigo-300';

/**
 * The VM a profile is linked to, and the VMs that present its SMBIOS UUID or MAC address
 * (the agent links the first one it sees; another can be linked by hand).
 */
export function VmLinks({
  hardware,
  onLink,
}: {
  hardware: Hardware;
  onLink: (vmId: string | null) => Promise<unknown>;
}) {
  const linked = useVmName(hardware.vm_id);
  const sharing = useVmsSharing(hardware);
  const [busy, setBusy] = useState<string | null>(null);
  const link = async (vmId: string | null) => {
    setBusy(vmId ?? 'none');
    try {
      await onLink(vmId);
    } finally {
      setBusy(null);
    }
  };
  const others = (sharing.data ?? []).filter((vm) => vm.id !== hardware.vm_id);

  return (
    <div className="space-y-2">
      <div className="flex flex-wrap items-center gap-2">
        <span className="font-medium text-zinc-500">VM:</span>
        {hardware.vm_id === null ? (
          <span className="text-zinc-500">none</span>
        ) : (
          <>
            <Link href={`/vms/${hardware.vm_id}`} className={LINK}>
              {linked.data
                ? (linked.data.name ?? `VM ${linked.data.vmid ?? ''}`)
                : linked.isError
                  ? 'linked VM'
                  : '…'}
            </Link>
            {linked.data ? <StatusBadge status={linked.data.status} /> : null}
            <Button
              variant="ghost"
              className="px-2 py-1 text-xs"
              disabled={busy !== null}
              onClick={() => link(null)}
            >
              Unlink VM
            </Button>
          </>
        )}
      </div>
      {hardware.smbios_uuid || hardware.mac_address ? (
        <div>
          <p className="text-xs text-zinc-500">VMs with this SMBIOS UUID or MAC address:</p>
          {sharing.isPending ? (
            <p className="text-xs text-zinc-500">Looking…</p>
          ) : sharing.isError ? (
            <p className="text-xs text-red-600 dark:text-red-400">
              The VMs could not be looked up.
            </p>
          ) : others.length === 0 ? (
            <p className="text-xs text-zinc-500">
              {hardware.vm_id ? 'no other VM' : 'none yet'} (the agent links a VM that shows this
              SMBIOS UUID or MAC)
            </p>
          ) : (
            <ul className="mt-1 space-y-1" aria-label="VMs with the same identifiers">
              {others.map((vm) => (
                <li key={vm.id} className="flex flex-wrap items-center gap-2">
                  <Link href={`/vms/${vm.id}`} className={LINK}>
                    {vm.name ?? `VM ${vm.vmid ?? ''}`}
                  </Link>
                  <StatusBadge status={vm.status} />
                  <span className="text-xs text-zinc-500">same {vm.by.join(' and ')}</span>
                  <Button
                    variant="secondary"
                    className="px-2 py-1 text-xs"
                    disabled={busy !== null}
                    onClick={() => link(vm.id)}
                    aria-label={`Link ${vm.name ?? `VM ${vm.vmid ?? ''}`}`}
                  >
                    Link
                  </Button>
                </li>
              ))}
            </ul>
          )}
        </div>
      ) : null}
    </div>
  );
}
