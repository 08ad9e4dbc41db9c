import { cleanup, render, screen } from '@testing-library/react';
import { Toaster } from 'sonner';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../src/api/problem';
import { saveEdit } from '../src/lib/save-edit';

afterEach(cleanup);

const problem = (status: number, code: string) =>
  new ApiError(status, { type: 'about:blank', title: code, status, detail: code, code });

describe('saveEdit', () => {
  it('saves and says so', async () => {
    render(<Toaster />);
    const refresh = vi.fn(async () => undefined);
    expect(await saveEdit({ save: async () => ({}), what: 'account', refresh })).toBe(true);
    expect(await screen.findByText('Saved.')).toBeTruthy();
    expect(refresh).not.toHaveBeenCalled();
  });

  it('on 412 (changed meanwhile) does not overwrite: says so and reloads', async () => {
    render(<Toaster />);
    const refresh = vi.fn(async () => undefined);
    const saved = await saveEdit({
      save: async () => {
        throw problem(412, 'precondition_failed');
      },
      what: 'node',
      refresh,
    });
    expect(saved).toBe(false);
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(
      await screen.findByText(
        'This node was changed meanwhile; the latest version is shown. Edit it again.',
      ),
    ).toBeTruthy();
  });

  it('hands any other refusal back to the form', async () => {
    const refresh = vi.fn(async () => undefined);
    const refusal = problem(409, 'conflict');
    await expect(
      saveEdit({
        save: async () => {
          throw refusal;
        },
        what: 'card',
        refresh,
      }),
    ).rejects.toBe(refusal);
    expect(refresh).not.toHaveBeenCalled();
  });
});
