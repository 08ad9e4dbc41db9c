'use client';

import { NewCard } from '../../../../features/cards/new-card';

export default function NewCardPage() {
  return <NewCard />;
}
