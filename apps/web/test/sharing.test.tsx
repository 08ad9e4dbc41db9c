import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { cleanup, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { ReactNode } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../src/api/problem';
import type { Grant, NewGrant, SharingApi } from '../src/features/sharing/queries';
import { SharePanel } from '../src/features/sharing/share-dialog';
import { SHARED_FILTER, SharedBadge, SharedBanner } from '../src/features/sharing/shared-badge';
import { SharedWithMeList } from '../src/features/sharing/shared-with-me';

afterEach(() => cleanup());

const OWNER = { id: 'u-alice', username: 'alice' };

function grant(over: Partial<Grant> = {}): Grant {
  return {
    id: `g-${Math.random().toString(16).slice(2)}`,
    object_type: 'account',
    object_id: 'acc-1',
    object_name: 'steam-main',
    owner: OWNER,
    grantee: { id: 'u-bob', username: 'bob' },
    permission: 'read',
    secrets: false,
    created_at: new Date().toISOString(),
    updated_at: new Date().toISOString(),
    ...over,
  };
}

/** A sharing API over an in-memory list, recording every call. */
function fakeSharing(initial: Grant[] = []) {
  let grants = [...initial];
  const calls: string[] = [];
  const sharing: SharingApi = {
    list: vi.fn(async () => grants),
    create: vi.fn(async (body: NewGrant) => {
      calls.push(`create ${JSON.stringify(body)}`);
      if (body.grantee === 'nobody') {
        throw new ApiError(404, {
          type: 'x',
          title: 'Not Found',
          status: 404,
          code: 'grantee_not_found',
          detail: 'The user does not exist.',
        });
      }
      const made = grant({
        object_type: body.object_type,
        object_id: body.object_id,
        grantee: { id: `u-${body.grantee}`, username: body.grantee },
        permission: body.permission ?? 'read',
        secrets: body.secrets ?? false,
      });
      grants = [made, ...grants];
      return made;
    }),
    update: vi.fn(async (id, body) => {
      calls.push(`update ${id} ${JSON.stringify(body)}`);
      grants = grants.map((g) => (g.id === id ? { ...g, ...body } : g));
      return grants.find((g) => g.id === id) as Grant;
    }),
    remove: vi.fn(async (id) => {
      calls.push(`remove ${id}`);
      grants = grants.filter((g) => g.id !== id);
    }),
  };
  return { sharing, calls };
}

function withQueries(children: ReactNode) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return <QueryClientProvider client={client}>{children}</QueryClientProvider>;
}

describe('SharePanel', () => {
  it('adds a grantee by username with read-write and secrets (accounts), then lists them', async () => {
    const { sharing, calls } = fakeSharing();
    render(withQueries(<SharePanel objectType="account" objectId="acc-1" sharing={sharing} />));
    expect((await screen.findByText('Not shared with anyone.')).tagName).toBe('P');
    const u = userEvent.setup();
    await u.type(screen.getByLabelText('Share with (username)'), '  carol ');
    await u.selectOptions(screen.getByLabelText('Permission'), 'write');
    await u.click(screen.getByLabelText(/Can see secrets/));
    await u.click(screen.getByRole('button', { name: 'Share' }));
    await waitFor(() => expect(screen.getAllByTestId('grant')).toHaveLength(1));
    expect(calls).toEqual([
      `create ${JSON.stringify({
        object_type: 'account',
        object_id: 'acc-1',
        grantee: 'carol',
        permission: 'write',
        secrets: true,
      })}`,
    ]);
    const row = screen.getByTestId('grant');
    expect(within(row).getByText('carol').textContent).toBe('carol');
    expect((within(row).getByLabelText('Permission of carol') as HTMLSelectElement).value).toBe(
      'write',
    );
    expect((within(row).getByLabelText('carol can see secrets') as HTMLInputElement).checked).toBe(
      true,
    );
    // The form is empty again for the next one.
    expect((screen.getByLabelText('Share with (username)') as HTMLInputElement).value).toBe('');
  });

  it('has no secrets choice for a VM or node, and shows the API refusal', async () => {
    const { sharing, calls } = fakeSharing();
    render(withQueries(<SharePanel objectType="vm" objectId="vm-1" sharing={sharing} />));
    await screen.findByText('Not shared with anyone.');
    expect(screen.queryByLabelText(/Can see secrets/)).toBeNull();
    const u = userEvent.setup();
    await u.type(screen.getByLabelText('Share with (username)'), 'nobody');
    await u.click(screen.getByRole('button', { name: 'Share' }));
    expect((await screen.findByRole('alert')).textContent).toBe('The user does not exist.');
    expect(calls).toEqual([
      `create ${JSON.stringify({ object_type: 'vm', object_id: 'vm-1', grantee: 'nobody', permission: 'read' })}`,
    ]);
    // Too short a name never reaches the API.
    await u.clear(screen.getByLabelText('Share with (username)'));
    await u.type(screen.getByLabelText('Share with (username)'), 'ab');
    await u.click(screen.getByRole('button', { name: 'Share' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(/Type the username/);
    expect(calls).toHaveLength(1);
  });

  it('changes the permission and the secrets flag, and revokes', async () => {
    const bob = grant({ id: 'g-bob' });
    const { sharing, calls } = fakeSharing([bob]);
    render(withQueries(<SharePanel objectType="account" objectId="acc-1" sharing={sharing} />));
    const row = await screen.findByTestId('grant');
    const u = userEvent.setup();
    await u.selectOptions(within(row).getByLabelText('Permission of bob'), 'write');
    await waitFor(() => expect(calls).toContain('update g-bob {"permission":"write"}'));
    await u.click(within(screen.getByTestId('grant')).getByLabelText('bob can see secrets'));
    await waitFor(() => expect(calls).toContain('update g-bob {"secrets":true}'));
    await u.click(screen.getByRole('button', { name: "Revoke bob's share" }));
    await waitFor(() => expect(calls).toContain('remove g-bob'));
    expect((await screen.findByText('Not shared with anyone.')).tagName).toBe('P');
  });
});

describe('shared markers', () => {
  it('a badge names the owner and says read-only; nothing on your own objects', () => {
    const { rerender } = render(<SharedBadge sharedBy={OWNER} permission="read" />);
    expect(screen.getByTestId('shared-badge').textContent).toBe('Shared by alice· read-only');
    rerender(<SharedBadge sharedBy={OWNER} permission="write" />);
    expect(screen.getByTestId('shared-badge').textContent).toBe('Shared by alice');
    rerender(<SharedBadge sharedBy={undefined} permission={undefined} />);
    expect(screen.queryByTestId('shared-badge')).toBeNull();
  });

  it('the detail banner says what the share allows', () => {
    render(<SharedBanner sharedBy={OWNER} permission="read" secrets={false} />);
    expect(screen.getByTestId('shared-banner').textContent).toBe(
      'Shared by alice: read-only, without its secrets. Only alice can delete or share it.',
    );
  });

  it('the Shared filter offers Mine and Shared with me (All: no filter)', () => {
    expect(SHARED_FILTER).toEqual({
      name: 'shared',
      label: 'Shared',
      options: [
        { value: 'exclude', label: 'Mine' },
        { value: 'only', label: 'Shared with me' },
      ],
    });
  });

  it('"Shared with me" lists each share with a link to its object', () => {
    render(
      <SharedWithMeList
        grants={[
          grant({ object_type: 'proxmox_node', object_id: 'n-1', object_name: 'pve-1' }),
          grant({ permission: 'write', secrets: true }),
        ]}
      />,
    );
    const rows = screen.getAllByTestId('received-grant');
    expect(rows).toHaveLength(2);
    expect(
      within(rows[0] as HTMLElement)
        .getByRole('link', { name: 'pve-1' })
        .getAttribute('href'),
    ).toBe('/nodes/n-1');
    expect(rows[1]?.textContent).toContain('read-write, with secrets');
    expect(
      within(rows[1] as HTMLElement)
        .getByRole('link', { name: 'steam-main' })
        .getAttribute('href'),
    ).toBe('/accounts/acc-1');
  });

  it('says so when nothing is shared', () => {
    render(<SharedWithMeList grants={[]} />);
    expect(screen.getByText('Nothing is shared with you').tagName).toBe('P');
    expect(screen.queryByRole('table')).toBeNull();
  });
});
