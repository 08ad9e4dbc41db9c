'use client';

import { useParams } from 'next/navigation';
import { AccountDetail } from '../../../../features/accounts/account-detail';

export default function AccountPage() {
  const { id } = useParams<{ id: string }>();
  return <AccountDetail key={id} id={id} />;
}
