'use client';

import { RegisterNode } from '../../../../features/nodes/register-node';

export default function RegisterNodePage() {
  return <RegisterNode />;
}
