'use client';

import { useTheme } from 'next-themes';
import { useEffect, useState } from 'react';
import { Card, DetailList, PageHeader } from '../../components/ui';
import { api, useSession } from '../../lib/api';
import { ago } from '../../lib/time';
import { PasskeysSection } from '../mfa/passkeys-section';
import { SecuritySection } from '../mfa/security-section';
import { PasswordForm } from './password-form';
import { TokensSection } from './tokens-section';

function ThemeChoice() {
  const { theme, setTheme } = useTheme();
  const [mounted, setMounted] = useState(false);
  useEffect(() => setMounted(true), []);
  return (
    <fieldset className="space-y-1 text-sm">
      <legend className="mb-1 font-medium">Theme</legend>
      {(
        [
          ['system', 'Same as the system'],
          ['light', 'Light'],
          ['dark', 'Dark'],
        ] as const
      ).map(([value, label]) => (
        <label key={value} className="flex items-center gap-2">
          <input
            type="radio"
            name="theme"
            value={value}
            checked={mounted && (theme ?? 'system') === value}
            onChange={() => setTheme(value)}
          />
          {label}
        </label>
      ))}
    </fieldset>
  );
}

/** Who may change the profile's name, e-mail and role: an admin does it on their own page. */
export function ProfileHint({ userRole }: { userRole: 'admin' | 'user' }) {
  return (
    <p className="mt-3 text-xs text-zinc-500" data-testid="profile-hint">
      {userRole === 'admin'
        ? 'As an admin, you change your name, e-mail and role on your page under Users (the last active admin stays one).'
        : 'An administrator can change your name, e-mail and role.'}
    </p>
  );
}

/** Your profile, password, second factor, personal access tokens and appearance. */
export function SettingsPage() {
  const session = useSession();
  if (!session) return null;
  const { user } = session;
  return (
    <div className="space-y-4">
      <PageHeader title="Settings" />
      <div className="grid gap-4 lg:grid-cols-2">
        <Card title="Profile">
          <DetailList
            items={[
              ['Username', user.username],
              ['E-mail', user.email],
              ['Role', user.role],
              ['Last login', ago(user.last_login_at)],
              ['Member since', new Date(user.created_at).toLocaleDateString()],
            ]}
          />
          <ProfileHint userRole={user.role} />
        </Card>
        <Card title="Appearance">
          <ThemeChoice />
        </Card>
        <Card title="Password" className="lg:col-span-2">
          <PasswordForm api={api} />
        </Card>
        <Card title="Security: second factor" className="lg:col-span-2">
          <SecuritySection />
        </Card>
        <Card title="Security: passkeys" className="lg:col-span-2">
          <PasskeysSection />
        </Card>
        <Card title="Personal access tokens" className="lg:col-span-2">
          <TokensSection api={api} />
        </Card>
      </div>
    </div>
  );
}
