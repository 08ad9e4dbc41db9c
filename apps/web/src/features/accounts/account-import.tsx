'use client';

import { useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { ImportWizard } from '../../components/import-wizard';
import { PageHeader } from '../../components/ui';
import { api, unwrap } from '../../lib/api';
import { type AccountImportResult, accountKeys } from './queries';

const FORMATS = [
  { value: '', label: 'Detect from the content' },
  { value: 'json', label: 'JSON (array or one object; .maFile; earlier AccountDB export)' },
  { value: 'jsonl', label: 'JSON lines (one record a line)' },
  { value: 'csv', label: 'CSV with a header row' },
];

const EXAMPLE = `[
  {"service": "steam", "username": "farm_001", "password": "…", "totp_secret": "JBSWY3DPEHPK3PXP"},
  {"service": "steam", "username": "farm_002", "password": "…", "external_id": "76561198000000002"}
]`;

/** Accounts from a file or pasted text: JSON, JSON lines, CSV, the earlier format, .maFiles. */
export function AccountImport() {
  const queryClient = useQueryClient();
  return (
    <>
      <PageHeader
        title="Import accounts"
        description="Check first: nothing is written until you import."
      />
      <ImportWizard<AccountImportResult>
        entity="accounts"
        textareaLabel="Paste accounts"
        placeholder={EXAMPLE}
        accept=".json,.jsonl,.ndjson,.csv,.txt,.maFile"
        formats={FORMATS}
        doneHref="/accounts"
        help={
          <>
            Records use the fields of a new account (service, username, email, password,
            totp_secret, shared_secret, tags, …), the earlier AccountDB upload format, or Steam
            Guard .maFiles (choose several at once). A record whose external id matches one of your
            accounts updates it. A whole Steam Guard folder, encrypted SDA files included:{' '}
            <Link href="/accounts/import/mafiles" className="font-medium text-indigo-600">
              import a maFiles folder
            </Link>
            .
          </>
        }
        run={async ({ text, format, dryRun }) => {
          const result = unwrap(
            await api.POST('/api/v1/accounts/import', {
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
          if (!dryRun) await queryClient.invalidateQueries({ queryKey: accountKeys.all });
          return result;
        }}
        toImport={(r) => r.created + r.updated}
        summary={(r) =>
          `${r.dry_run ? 'Would create' : 'Created'} ${r.created}, ${r.dry_run ? 'update' : 'updated'} ${r.updated}; ${r.failed} failed (format ${r.format}).`
        }
      />
    </>
  );
}
