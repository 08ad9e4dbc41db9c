'use client';

import { Suspense } from 'react';
import { MfaRequiredSetting } from '../../../../features/mfa/admin-mfa';
import { UserList } from '../../../../features/users/user-list';

export default function UsersPage() {
  return (
    <div className="space-y-4">
      <Suspense>
        <UserList />
      </Suspense>
      <MfaRequiredSetting />
    </div>
  );
}
