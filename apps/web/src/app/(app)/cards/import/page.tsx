'use client';

import { CardImport } from '../../../../features/cards/card-import';

export default function ImportCardsPage() {
  return <CardImport />;
}
