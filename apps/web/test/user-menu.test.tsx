import { cleanup, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { User } from '../src/api/session';
import { UserMenu } from '../src/components/user-menu';

vi.mock('next/link', () => ({
  default: ({ children, ...props }: { children: unknown }) => <a {...props}>{children as never}</a>,
}));
afterEach(cleanup);

const user = { id: 'u1', username: 'alice', email: 'alice@example.com', role: 'admin' } as User;

describe('the user menu (menu button pattern)', () => {
  it('is a button that opens a menu of menu items, focusing the first', async () => {
    render(<UserMenu user={user} />);
    const button = screen.getByRole('button', { name: 'User menu for alice' });
    expect(button.getAttribute('aria-haspopup')).toBe('menu');
    expect(button.getAttribute('aria-expanded')).toBe('false');
    expect(screen.queryByRole('menu')).toBeNull();
    await userEvent.click(button);
    expect(button.getAttribute('aria-expanded')).toBe('true');
    const menu = screen.getByRole('menu');
    expect(button.getAttribute('aria-controls')).toBe(menu.id);
    expect(screen.getAllByRole('menuitem').map((i) => i.textContent)).toEqual([
      'Settings',
      'Log out',
    ]);
    expect(document.activeElement?.textContent).toBe('Settings');
  });

  it('moves with the arrow keys, Home and End, and Escape closes it back to the button', async () => {
    render(<UserMenu user={user} />);
    const button = screen.getByRole('button', { name: 'User menu for alice' });
    button.focus();
    await userEvent.keyboard('{ArrowDown}');
    expect(document.activeElement?.textContent).toBe('Settings');
    await userEvent.keyboard('{ArrowDown}');
    expect(document.activeElement?.textContent).toBe('Log out');
    await userEvent.keyboard('{ArrowDown}');
    expect(document.activeElement?.textContent).toBe('Settings');
    await userEvent.keyboard('{End}');
    expect(document.activeElement?.textContent).toBe('Log out');
    await userEvent.keyboard('{Home}');
    expect(document.activeElement?.textContent).toBe('Settings');
    await userEvent.keyboard('{Escape}');
    expect(screen.queryByRole('menu')).toBeNull();
    expect(document.activeElement).toBe(button);
  });

  it('closes on a click elsewhere', async () => {
    render(
      <div>
        <UserMenu user={user} />
        <p>elsewhere</p>
      </div>,
    );
    await userEvent.click(screen.getByRole('button', { name: 'User menu for alice' }));
    expect(screen.queryByRole('menu')).not.toBeNull();
    await userEvent.click(screen.getByText('elsewhere'));
    expect(screen.queryByRole('menu')).toBeNull();
  });
});
