'use client';

import { Suspense } from 'react';
import { CardList } from '../../../features/cards/card-list';

export default function CardsPage() {
  return (
    <Suspense>
      <CardList />
    </Suspense>
  );
}
