'use client';

import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { toast } from 'sonner';
import { ApiError, problemMessage } from '../../api/problem';
import { ConfirmDialog, Dialog } from '../dialog';
import { Button, Field, SelectField } from '../ui';
import { saveBlob, toCsv } from './run-each';
import type { BulkAction, Column } from './types';

/**
 * The actions on the selected rows: the feature's own (status, tags, delete, …) and "Export
 * selected" (CSV of the visible values, made in the browser). Destructive actions ask first;
 * an action that needs a value asks for it; progress shows while it runs; lists refresh after.
 */
export function BulkBar<T extends { id: string }>({
  entity,
  selected,
  actions,
  columns,
  onDone,
}: {
  entity: string;
  selected: T[];
  actions: ReadonlyArray<BulkAction<T>>;
  columns: ReadonlyArray<Column<T>>;
  onDone: () => void;
}) {
  const queryClient = useQueryClient();
  const [pending, setPending] = useState<BulkAction<T> | null>(null);
  const [value, setValue] = useState('');
  const [progress, setProgress] = useState<number | null>(null);

  const run = async (action: BulkAction<T>, input: string | undefined) => {
    setProgress(0);
    try {
      const message = await action.run(selected, input, setProgress);
      toast.success(message);
      onDone();
    } catch (error) {
      toast.error(
        error instanceof ApiError
          ? problemMessage(error.problem, error.message)
          : error instanceof Error
            ? error.message
            : 'The action failed.',
      );
    } finally {
      setProgress(null);
      setPending(null);
      setValue('');
      await queryClient.invalidateQueries();
    }
  };

  const start = (action: BulkAction<T>) => {
    if (action.input || action.confirm) {
      setValue(action.input?.options?.[0]?.value ?? '');
      setPending(action);
    } else void run(action, undefined);
  };

  const exportSelected = () => {
    const exported = columns.filter((c) => c.text);
    const csv = toCsv(
      ['id', ...exported.map((c) => c.id)],
      selected.map((row) => [row.id, ...exported.map((c) => c.text?.(row) ?? '')]),
    );
    saveBlob(new Blob([csv], { type: 'text/csv' }), `${entity}-selected.csv`);
  };

  const confirm = pending?.confirm?.(selected.length);
  const busy = progress !== null;
  return (
    <section
      aria-label="Bulk actions"
      className="flex flex-wrap items-center gap-2 rounded-md bg-indigo-50 px-3 py-1.5 text-indigo-900 dark:bg-indigo-950/60 dark:text-indigo-100"
    >
      <span className="font-medium" data-testid="selected-count">
        {selected.length} selected
      </span>
      {actions.map((action) => (
        <Button
          key={action.id}
          variant={action.destructive ? 'danger' : 'secondary'}
          disabled={busy}
          onClick={() => start(action)}
        >
          {action.label}
        </Button>
      ))}
      <Button variant="secondary" disabled={busy} onClick={exportSelected}>
        Export selected
      </Button>
      <Button variant="ghost" disabled={busy} onClick={onDone}>
        Clear selection
      </Button>
      {busy ? (
        <span role="status" className="text-xs">
          {progress} / {selected.length}
        </span>
      ) : null}
      {pending && !pending.input && confirm ? (
        <ConfirmDialog
          open
          title={confirm.title}
          message={confirm.message}
          confirmLabel={confirm.confirmLabel}
          busy={busy}
          onConfirm={() => run(pending, undefined)}
          onCancel={() => setPending(null)}
        />
      ) : null}
      {pending?.input ? (
        <Dialog
          open
          onClose={() => setPending(null)}
          title={`${pending.label}: ${selected.length} ${entity}`}
          footer={
            <>
              <Button variant="ghost" onClick={() => setPending(null)} disabled={busy}>
                Cancel
              </Button>
              <Button
                variant={pending.destructive ? 'danger' : 'primary'}
                disabled={busy || value.trim() === ''}
                onClick={() => run(pending, value.trim())}
              >
                {busy ? `Working… ${progress}/${selected.length}` : pending.label}
              </Button>
            </>
          }
        >
          <form
            onSubmit={(event) => {
              event.preventDefault();
              if (value.trim()) void run(pending, value.trim());
            }}
          >
            {pending.input.options ? (
              <SelectField
                label={pending.input.label}
                value={value}
                onChange={(event) => setValue(event.target.value)}
                options={pending.input.options}
              />
            ) : (
              <Field
                label={pending.input.label}
                value={value}
                placeholder={pending.input.placeholder}
                onChange={(event) => setValue(event.target.value)}
                autoFocus
              />
            )}
            {confirm ? <div className="mt-3">{confirm.message}</div> : null}
          </form>
        </Dialog>
      ) : null}
    </section>
  );
}
