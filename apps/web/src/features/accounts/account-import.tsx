'use client';

import { useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import type { paths } from '../../api/schema';
import { ImportWizard } from '../../components/import-wizard';
import { PageHeader } from '../../components/ui';
import { api, unwrap } from '../../lib/api';
import { detectAccountFormat, formatLabel, LEGACY_TEMPLATE_CSV } from './legacy-formats';
import { type AccountImportResult, accountKeys } from './queries';

const FORMATS = [
  { value: '', label: 'Detect from the content' },
  { value: 'json', label: 'JSON (array or one object; .maFile; earlier AccountDB export)' },
  { value: 'jsonl', label: 'JSON lines (one record a line)' },
  { value: 'csv', label: 'CSV with a header row' },
  { value: 'legacy-json', label: 'Earlier AccountDB: upload JSON' },
  { value: 'legacy-csv', label: 'Earlier AccountDB: upload CSV (dotted headers, its template)' },
  { value: 'legacy-table-csv', label: 'Earlier AccountDB: accounts table dump (CSV)' },
  { value: 'legacy-table-json', label: 'Earlier AccountDB: accounts table (JSON)' },
];

type ImportFormat = NonNullable<
  paths['/api/v1/accounts/import']['post']['parameters']['query']
>['format'];

/** Saves the earlier AccountDB's CSV template. */
function downloadTemplate() {
  const url = URL.createObjectURL(new Blob([LEGACY_TEMPLATE_CSV], { type: 'text/csv' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = 'accounts-template.csv';
  link.click();
  URL.revokeObjectURL(url);
}

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
            totp_secret, shared_secret, tags, …), the earlier AccountDB's formats (its upload JSON
            and dotted-header CSV, a dump of its accounts table), or Steam Guard .maFiles (choose
            several at once). A record whose external id matches one of your accounts updates it.
            The earlier flags become status and tags (perm_lock: disabled, lock: locked, prime: tag
            prime).{' '}
            <button
              type="button"
              onClick={downloadTemplate}
              className="text-indigo-600 underline dark:text-indigo-400"
            >
              Download the earlier CSV template
            </button>
            . A whole Steam Guard folder, encrypted SDA files included:{' '}
            <Link href="/accounts/import/mafiles" className="font-medium text-indigo-600">
              import a maFiles folder
            </Link>
            .
          </>
        }
        detect={(text) => {
          const format = detectAccountFormat(text);
          return format ? formatLabel(format) : null;
        }}
        run={async ({ text, format, dryRun }) => {
          const result = unwrap(
            await api.POST('/api/v1/accounts/import', {
              params: {
                query: {
                  dry_run: dryRun,
                  ...(format ? { format: format as ImportFormat } : {}),
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
          `${r.dry_run ? 'Would create' : 'Created'} ${r.created}, ${r.dry_run ? 'update' : 'updated'} ${r.updated}; ${r.failed} failed (read as ${formatLabel(r.format)}).`
        }
      />
    </>
  );
}
