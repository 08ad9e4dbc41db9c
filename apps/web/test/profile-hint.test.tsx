import { cleanup, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ProfileHint } from '../src/features/settings/settings-page';

vi.mock('next/link', () => ({ default: (props: { children: unknown }) => props.children }));
afterEach(cleanup);

describe('Settings: who changes the profile', () => {
  it('tells an admin they change it themselves, under Users', () => {
    render(<ProfileHint userRole="admin" />);
    expect(screen.getByTestId('profile-hint').textContent).toMatch(/^As an admin, you change/);
  });

  it('tells a user an administrator does', () => {
    render(<ProfileHint userRole="user" />);
    expect(screen.getByTestId('profile-hint').textContent).toBe(
      'An administrator can change your name, e-mail and role.',
    );
  });
});
