'use client';

import { SharedWithMe } from '../../../features/sharing/shared-with-me';

export default function SharedPage() {
  return <SharedWithMe />;
}
