'use client';

import { Suspense } from 'react';
import { AccountList } from '../../../features/accounts/account-list';

export default function AccountsPage() {
  return (
    <Suspense>
      <AccountList />
    </Suspense>
  );
}
