'use client';

import { SettingsPage } from '../../../features/settings/settings-page';

export default function Settings() {
  return <SettingsPage />;
}
