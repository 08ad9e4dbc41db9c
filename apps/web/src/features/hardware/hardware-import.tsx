'use client';

import { useQueryClient } from '@tanstack/react-query';
import { ImportWizard } from '../../components/import-wizard';
import { PageHeader } from '../../components/ui';
import { api, unwrap } from '../../lib/api';
import { type HardwareImportResult, hardwareKeys } from './queries';

const FORMATS = [
  { value: '', label: 'Detect from the content' },
  {
    value: 'json',
    label: 'JSON array (earlier AccountDB hardware list or dump; AccountDB fields)',
  },
  { value: 'jsonl', label: 'JSON lines (one record a line)' },
  { value: 'csv', label: 'CSV with a header row (earlier hardware table dump; AccountDB fields)' },
];

const EXAMPLE = `[
  {"id": 12, "acc_id": "76561198000000001", "vmid": 105, "pcname": "DESKTOP-7F3K2LQ",
   "mac_address": "BC:24:11:5E:0A:01", "smbios_uuid": "4c4c4544-0042-3510-8052-b4c04f4e4d32"},
  {"pcname": "DESKTOP-Q81ZC0M", "mac_address": "BC:24:11:5E:0A:02", "tags": ["eu"]}
]`;

/** Hardware profiles from a file or pasted text, the earlier AccountDB's included. */
export function HardwareImport() {
  const queryClient = useQueryClient();
  return (
    <>
      <PageHeader
        title="Import hardware"
        description="Check first: nothing is written until you import."
      />
      <ImportWizard<HardwareImportResult>
        entity="hardware profiles"
        textareaLabel="Paste hardware"
        placeholder={EXAMPLE}
        accept=".json,.jsonl,.ndjson,.csv,.txt"
        formats={FORMATS}
        doneHref="/hardware"
        help={
          <>
            Records use the fields of a new hardware profile (pcname, mac_address, smbios_uuid,
            account_id, vm_id, tags, …) or are rows of the earlier AccountDB&apos;s hardware table
            (its upload list, or a dump as CSV or JSON). Earlier rows link by acc_id to your account
            with that SteamID (external id) and by vmid to your VM with that VMID; a link that
            matches none of yours, or a VMID on two of your nodes, is reported on its row and that
            row is not imported. A record whose earlier id (external id) or SMBIOS UUID matches one
            of yours updates it, so importing a file twice adds nothing.
          </>
        }
        run={async ({ text, format, dryRun }) => {
          const result = unwrap(
            await api.POST('/api/v1/hardware/import', {
              params: {
                query: {
                  dry_run: dryRun,
                  ...(format ? { format: format as 'json' | 'jsonl' | 'csv' } : {}),
                },
              },
              body: text as never,
              bodySerializer: (body: unknown) => body as string,
              headers: { 'content-type': 'text/plain' },
            }),
          );
          if (!dryRun) await queryClient.invalidateQueries({ queryKey: hardwareKeys.all });
          return result;
        }}
        toImport={(r) => r.created + r.updated}
        summary={(r) =>
          `${r.dry_run ? 'Would create' : 'Created'} ${r.created}, ${r.dry_run ? 'update' : 'updated'} ${r.updated}, ${r.unchanged} unchanged; ${r.failed} failed (format ${r.format}).`
        }
      />
    </>
  );
}
