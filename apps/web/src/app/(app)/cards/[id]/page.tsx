'use client';

import { useParams } from 'next/navigation';
import { CardDetail } from '../../../../features/cards/card-detail';

export default function CardPage() {
  const { id } = useParams<{ id: string }>();
  return <CardDetail key={id} id={id} />;
}
