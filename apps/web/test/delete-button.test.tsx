import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { cleanup, render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Toaster } from 'sonner';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../src/api/problem';
import { DeleteButton } from '../src/components/delete-button';

const push = vi.fn();
vi.mock('next/navigation', () => ({ useRouter: () => ({ push }) }));

afterEach(() => {
  cleanup();
  push.mockReset();
});

function renderButton(remove: () => Promise<unknown>) {
  const client = new QueryClient();
  client.setQueryData(['vms', 'one', 'vm-1'], { name: 'web-01' });
  client.setQueryData(['vms', 'list'], { items: [] });
  const invalidate = vi.spyOn(client, 'invalidateQueries');
  render(
    <QueryClientProvider client={client}>
      <Toaster />
      <DeleteButton
        title="Delete web-01?"
        message="It is removed with its status history."
        confirmLabel="Delete VM"
        done="Deleted web-01."
        remove={remove}
        listHref="/vms"
        queryKeys={{ list: ['vms'], one: ['vms', 'one', 'vm-1'] }}
      />
    </QueryClientProvider>,
  );
  return { client, invalidate };
}

describe('DeleteButton', () => {
  it('asks first; on confirmation deletes, says so, goes to the list and forgets the object', async () => {
    const remove = vi.fn(async () => undefined);
    const { client, invalidate } = renderButton(remove);
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'Delete' }));
    expect(screen.getByText('It is removed with its status history.')).toBeTruthy();
    expect(remove).not.toHaveBeenCalled();
    await user.click(screen.getByRole('button', { name: 'Delete VM' }));
    await screen.findByText('Deleted web-01.');
    expect(remove).toHaveBeenCalledTimes(1);
    expect(push).toHaveBeenCalledWith('/vms');
    expect(client.getQueryData(['vms', 'one', 'vm-1'])).toBeUndefined();
    expect(invalidate).toHaveBeenCalledWith({ queryKey: ['vms'] });
  });

  it('cancel deletes nothing', async () => {
    const remove = vi.fn(async () => undefined);
    renderButton(remove);
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'Delete' }));
    await user.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(remove).not.toHaveBeenCalled();
    expect(push).not.toHaveBeenCalled();
  });

  it("shows the API's refusal and stays on the page", async () => {
    const remove = vi.fn(async () => {
      throw new ApiError(409, {
        type: 'about:blank',
        title: 'Conflict',
        status: 409,
        detail: 'The last admin cannot be deleted.',
        code: 'last_admin',
      });
    });
    const { client } = renderButton(remove);
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'Delete' }));
    await user.click(screen.getByRole('button', { name: 'Delete VM' }));
    await screen.findByText(/The last admin cannot be deleted/);
    await waitFor(() => expect(remove).toHaveBeenCalledTimes(1));
    expect(push).not.toHaveBeenCalled();
    expect(client.getQueryData(['vms', 'one', 'vm-1'])).toEqual({ name: 'web-01' });
  });
});
