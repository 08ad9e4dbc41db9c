'use client';

import { type QueryKey, useQueryClient } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { type ReactNode, useState } from 'react';
import { toast } from 'sonner';
import { ApiError, problemMessage } from '../api/problem';
import { ConfirmDialog } from './dialog';
import { Button } from './ui';

/**
 * The Delete button of a detail page and its confirmation: deletes, says so, goes back to
 * the list and drops the object from the cache. A refusal (the last admin, say) is shown
 * and the page stays.
 */
export function DeleteButton({
  title,
  message,
  confirmLabel,
  done,
  remove,
  listHref,
  queryKeys,
  disabled,
}: {
  /** The confirmation's question: "Delete alice?". */
  title: string;
  message: ReactNode;
  confirmLabel: string;
  /** The toast after it: "Deleted alice." */
  done: string;
  remove: () => Promise<unknown>;
  listHref: string;
  queryKeys: { list: QueryKey; one: QueryKey };
  disabled?: boolean;
}) {
  const queryClient = useQueryClient();
  const router = useRouter();
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);

  const confirm = async () => {
    setBusy(true);
    try {
      await remove();
      toast.success(done);
      router.push(listHref);
      queryClient.removeQueries({ queryKey: queryKeys.one });
      void queryClient.invalidateQueries({ queryKey: queryKeys.list });
    } catch (error) {
      toast.error(
        error instanceof ApiError ? problemMessage(error.problem, error.message) : String(error),
      );
    } finally {
      setBusy(false);
      setOpen(false);
    }
  };

  return (
    <>
      <Button variant="danger" disabled={disabled} onClick={() => setOpen(true)}>
        Delete
      </Button>
      <ConfirmDialog
        open={open}
        title={title}
        message={message}
        confirmLabel={confirmLabel}
        busy={busy}
        onConfirm={confirm}
        onCancel={() => setOpen(false)}
      />
    </>
  );
}
