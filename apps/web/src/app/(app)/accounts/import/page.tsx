'use client';

import { AccountImport } from '../../../../features/accounts/account-import';

export default function ImportAccountsPage() {
  return <AccountImport />;
}
