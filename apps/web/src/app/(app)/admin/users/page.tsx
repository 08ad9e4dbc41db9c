'use client';

import { Suspense } from 'react';
import { UserList } from '../../../../features/users/user-list';

export default function UsersPage() {
  return (
    <Suspense>
      <UserList />
    </Suspense>
  );
}
