import { runEach } from './run-each';
import type { BulkAction } from './types';

/**
 * "Add tag" and "Remove tag" for any resource with tags: one PATCH per selected row with its
 * new tag list (rows that already have / lack the tag are skipped).
 */
export function tagActions<T extends { id: string; tags: string[] }>(options: {
  entity: string;
  patchTags: (id: string, tags: string[]) => Promise<unknown>;
}): BulkAction<T>[] {
  const change =
    (add: boolean) =>
    async (rows: T[], value: string | undefined, progress: (n: number) => void) => {
      const tag = (value ?? '').trim();
      const affected = rows.filter((r) => r.tags.includes(tag) !== add);
      await runEach({
        items: affected,
        task: (row) =>
          options.patchTags(row.id, add ? [...row.tags, tag] : row.tags.filter((t) => t !== tag)),
        onProgress: progress,
      });
      return `${add ? 'Added' : 'Removed'} tag "${tag}" ${add ? 'to' : 'from'} ${affected.length} ${options.entity}.`;
    };
  return [
    {
      id: 'tag-add',
      label: 'Add tag',
      input: { label: 'Tag', placeholder: 'e.g. eu' },
      run: change(true),
    },
    { id: 'tag-remove', label: 'Remove tag', input: { label: 'Tag' }, run: change(false) },
  ];
}

/** "Delete" through the resource's bulk-delete route, after a confirmation naming the count. */
export function deleteAction<T extends { id: string }>(options: {
  entity: string;
  remove: (ids: string[]) => Promise<{ deleted: number }>;
  consequence?: string;
}): BulkAction<T> {
  return {
    id: 'delete',
    label: 'Delete',
    destructive: true,
    confirm: (count) => ({
      title: `Delete ${count} ${options.entity}?`,
      message: options.consequence ?? 'They are removed for good; this cannot be undone.',
      confirmLabel: `Delete ${count}`,
    }),
    run: async (rows) => {
      const { deleted } = await options.remove(rows.map((r) => r.id));
      return `Deleted ${deleted} ${options.entity}.`;
    },
  };
}
