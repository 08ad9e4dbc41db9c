'use client';

import { NewAccount } from '../../../../features/accounts/new-account';

export default function NewAccountPage() {
  return <NewAccount />;
}
