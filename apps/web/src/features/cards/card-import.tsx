'use client';

import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { ImportWizard } from '../../components/import-wizard';
import { TagInput } from '../../components/tag-input';
import { Field, PageHeader } from '../../components/ui';
import { api, unwrap } from '../../lib/api';
import { type CardImportResult, cardKeys } from './queries';

/**
 * The content type a card upload is sent as: a JSON array (the earlier AccountDB's lists of
 * codes, or its table rows) as JSON; anything else (one card a line, a table dump as CSV) as
 * text, which the server tells apart by its header.
 */
export function cardUploadType(text: string): 'application/json' | 'text/plain' {
  return text.trimStart().startsWith('[') ? 'application/json' : 'text/plain';
}

/** Card codes from a file or pasted text, with the value and tags of the batch. */
export function CardImport() {
  const queryClient = useQueryClient();
  const [value, setValue] = useState('');
  const [currency, setCurrency] = useState('');
  const [expires, setExpires] = useState('');
  const [tags, setTags] = useState<string[]>([]);
  const valueError =
    value && (Number.isNaN(Number(value)) || Number(value) < 0)
      ? 'A value of 0 or more.'
      : undefined;
  const currencyError =
    currency && !/^[A-Za-z]{3}$/.test(currency) ? 'A three-letter code, e.g. EUR.' : undefined;
  return (
    <>
      <PageHeader
        title="Import cards"
        description="Check first: nothing is written until you import."
      />
      <ImportWizard<CardImportResult>
        entity="cards"
        textareaLabel="Paste cards"
        placeholder={'# batch 7\nAAAA-BBBB-CCCC-DDDD\nEEEE-FFFF-GGGG-HHHH,4711'}
        accept=".txt,.csv,.json"
        doneHref="/cards"
        help={
          <>
            One card a line: the code, or the code and a second code (PIN) separated by a comma.
            Blank lines and lines starting with # are skipped. The earlier AccountDB&apos;s files
            work too: its card list as JSON (
            <code>[[&quot;CODE1&quot;,&quot;CODE2&quot;],[&quot;CODE1&quot;]]</code>) and a dump of
            its cards table (CSV with the header{' '}
            <code>id,code1,code2,redeemed,failed,lock,perm_lock,owner_id</code>, or JSON rows),
            whose flags become the status and the tags lock/perm_lock. Codes you already have are
            reported as duplicates; a dump row whose code you have with other flags updates it.
          </>
        }
        options={
          <fieldset className="grid gap-3 sm:grid-cols-2">
            <legend className="mb-1 text-sm font-medium">For every card of this import</legend>
            <Field
              label="Value"
              inputMode="decimal"
              value={value}
              onChange={(e) => setValue(e.target.value)}
              error={valueError}
            />
            <Field
              label="Currency"
              placeholder="EUR"
              value={currency}
              onChange={(e) => setCurrency(e.target.value)}
              error={currencyError}
            />
            <Field
              label="Expires"
              type="date"
              value={expires}
              onChange={(e) => setExpires(e.target.value)}
            />
            <TagInput label="Tags" value={tags} onChange={setTags} />
          </fieldset>
        }
        run={async ({ text, dryRun }) => {
          if (valueError || currencyError) throw new Error(valueError ?? currencyError);
          const result = unwrap(
            await api.POST('/api/v1/cards/import', {
              params: {
                query: {
                  dry_run: dryRun,
                  ...(value ? { value: Number(value) } : {}),
                  ...(currency ? { currency: currency.toUpperCase() } : {}),
                  ...(expires
                    ? { expires_at: new Date(`${expires}T23:59:59Z`).toISOString() }
                    : {}),
                  ...(tags.length ? { tags } : {}),
                },
              },
              body: text as never,
              bodySerializer: (body: unknown) => body as string,
              headers: { 'content-type': cardUploadType(text) },
            }),
          );
          if (!dryRun) await queryClient.invalidateQueries({ queryKey: cardKeys.all });
          return result;
        }}
        toImport={(r) => r.created + r.updated}
        summary={(r) =>
          `${r.dry_run ? 'Would add' : 'Added'} ${r.created}, ${r.dry_run ? 'update' : 'updated'} ${r.updated}; ${r.duplicates} duplicate${r.duplicates === 1 ? '' : 's'} skipped; ${r.failed} failed (format ${r.format}).`
        }
      />
    </>
  );
}
