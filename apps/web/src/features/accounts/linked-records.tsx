'use client';

import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { Card, StatusBadge } from '../../components/ui';
import { api, unwrap } from '../../lib/api';

/** Hardware, VMs and cards linked to an account, each a link to its own page. */
export function LinkedRecords({ accountId }: { accountId: string }) {
  const query = { account_id: accountId, limit: 50 };
  const linked = useQuery({
    queryKey: ['accounts', 'linked', accountId],
    queryFn: async () => {
      const [hardware, vms, cards] = await Promise.all([
        api.GET('/api/v1/hardware', { params: { query } }).then(unwrap),
        api.GET('/api/v1/vms', { params: { query } }).then(unwrap),
        api.GET('/api/v1/cards', { params: { query } }).then(unwrap),
      ]);
      return { hardware: hardware.items, vms: vms.items, cards: cards.items };
    },
  });
  if (linked.isPending) return <Card title="Linked">Loading…</Card>;
  if (linked.isError) return <Card title="Linked">The linked records could not be loaded.</Card>;
  const { hardware, vms, cards } = linked.data;
  const none = hardware.length + vms.length + cards.length === 0;
  return (
    <Card title="Linked">
      {none ? (
        <p className="text-sm text-zinc-500">
          No hardware, VM or card is linked to this account. Link them from their own pages.
        </p>
      ) : (
        <div className="grid gap-4 text-sm sm:grid-cols-3">
          <section>
            <h3 className="mb-1 font-medium">Hardware</h3>
            <ul className="space-y-1">
              {hardware.map((h) => (
                <li key={h.id}>
                  <Link
                    href={`/hardware/${h.id}`}
                    className="text-indigo-700 hover:underline dark:text-indigo-300"
                  >
                    {h.pcname ?? h.mac_address ?? h.id}
                  </Link>
                </li>
              ))}
              {hardware.length === 0 ? <li className="text-zinc-500">none</li> : null}
            </ul>
          </section>
          <section>
            <h3 className="mb-1 font-medium">VMs</h3>
            <ul className="space-y-1">
              {vms.map((v) => (
                <li key={v.id} className="flex items-center gap-2">
                  <Link
                    href={`/vms/${v.id}`}
                    className="text-indigo-700 hover:underline dark:text-indigo-300"
                  >
                    {v.name ?? `VM ${v.vmid}`}
                  </Link>
                  <StatusBadge status={v.status} />
                </li>
              ))}
              {vms.length === 0 ? <li className="text-zinc-500">none</li> : null}
            </ul>
          </section>
          <section>
            <h3 className="mb-1 font-medium">Cards</h3>
            <ul className="space-y-1">
              {cards.map((c) => (
                <li key={c.id} className="flex items-center gap-2">
                  <Link
                    href={`/cards/${c.id}`}
                    className="text-indigo-700 hover:underline dark:text-indigo-300"
                  >
                    {c.code_hint}
                  </Link>
                  <StatusBadge status={c.status} />
                </li>
              ))}
              {cards.length === 0 ? <li className="text-zinc-500">none</li> : null}
            </ul>
          </section>
        </div>
      )}
    </Card>
  );
}
