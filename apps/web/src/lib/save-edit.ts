import { toast } from 'sonner';
import { ApiError } from '../api/problem';

/**
 * Saves an edit made on a copy that may be stale (PATCH with If-Match). When someone else
 * changed the record meanwhile (412), says so and reloads instead of overwriting their change;
 * other errors go back to the form. True when saved.
 */
export async function saveEdit(options: {
  save: () => Promise<unknown>;
  /** "account", "node", … */
  what: string;
  refresh: () => Promise<unknown>;
}): Promise<boolean> {
  try {
    await options.save();
    toast.success('Saved.');
    return true;
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 412)) throw error;
    toast.error(
      `This ${options.what} was changed meanwhile; the latest version is shown. Edit it again.`,
    );
    await options.refresh();
    return false;
  }
}
