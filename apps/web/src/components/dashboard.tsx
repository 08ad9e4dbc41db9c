'use client';

import Link from 'next/link';
import type { paths } from '../api/schema';
import { useAdminScope } from '../features/scope/admin-scope';
import { isVmStatus, VM_STATUS_HINTS } from '../features/vms/vm-states';
import { useDashboard } from '../lib/queries';
import { ago, duration } from '../lib/time';
import { Card, cx, StatusBadge } from './ui';

type DashboardData =
  paths['/api/v1/dashboard']['get']['responses'][200]['content']['application/json'];

const BAR_COLOURS: Record<string, string> = {
  running: 'bg-emerald-500',
  stopped: 'bg-zinc-400 dark:bg-zinc-500',
  paused: 'bg-amber-400',
  suspended: 'bg-violet-400',
  'io-error': 'bg-orange-500',
  migrating: 'bg-cyan-400',
  prelaunch: 'bg-teal-400',
  'internal-error': 'bg-rose-600',
  unknown: 'bg-red-300',
};

function Counts({
  title,
  total,
  byStatus,
  extra,
}: {
  title: string;
  total: number;
  byStatus?: Record<string, number>;
  extra?: Array<[string, number]>;
}) {
  return (
    <Card title={title}>
      <p className="text-3xl font-bold tabular-nums" data-testid={`total-${title.toLowerCase()}`}>
        {total}
      </p>
      <dl className="mt-3 space-y-1 text-sm">
        {Object.entries(byStatus ?? {}).map(([status, count]) => (
          <div key={status} className="flex items-center justify-between">
            <dt>
              <StatusBadge status={status} />
            </dt>
            <dd className="tabular-nums">{count}</dd>
          </div>
        ))}
        {(extra ?? []).map(([label, count]) => (
          <div key={label} className="flex items-center justify-between text-zinc-500">
            <dt>{label}</dt>
            <dd className="tabular-nums">{count}</dd>
          </div>
        ))}
      </dl>
    </Card>
  );
}

/** VMs by status as one stacked bar with a legend. */
function VmStatusChart({ vms }: { vms: DashboardData['vms'] }) {
  const entries = Object.entries(vms.by_status).filter(([, n]) => n > 0);
  const total = entries.reduce((sum, [, n]) => sum + n, 0);
  return (
    <Card title="VM status">
      {total === 0 ? (
        <p className="text-sm text-zinc-500">No VMs yet. They appear when a node's agent syncs.</p>
      ) : (
        <>
          <div
            className="flex h-4 overflow-hidden rounded-full bg-zinc-100 dark:bg-zinc-800"
            role="img"
            aria-label={entries.map(([s, n]) => `${n} ${s}`).join(', ')}
          >
            {entries.map(([status, n]) => (
              <div
                key={status}
                className={BAR_COLOURS[status] ?? 'bg-indigo-400'}
                style={{ width: `${(n / total) * 100}%` }}
              />
            ))}
          </div>
          <ul className="mt-3 flex flex-wrap gap-x-4 gap-y-1 text-sm">
            {entries.map(([status, n]) => (
              <li key={status} className="flex items-center gap-1.5">
                <span
                  aria-hidden="true"
                  className={cx('h-2.5 w-2.5 rounded-full', BAR_COLOURS[status] ?? 'bg-indigo-400')}
                />
                <span title={isVmStatus(status) ? VM_STATUS_HINTS[status] : undefined}>
                  {status}
                </span>{' '}
                <span className="tabular-nums text-zinc-500">{n}</span>
              </li>
            ))}
          </ul>
        </>
      )}
    </Card>
  );
}

function NodeHealth({ nodes }: { nodes: DashboardData['nodes'] }) {
  return (
    <Card title="Node health" className="lg:col-span-2">
      {nodes.items.length === 0 ? (
        <p className="text-sm text-zinc-500">
          No Proxmox nodes yet.{' '}
          <Link href="/nodes/new" className="text-indigo-700 hover:underline dark:text-indigo-300">
            Register a node
          </Link>{' '}
          and install the agent on it: the page shows its key and configuration.
        </p>
      ) : (
        <div className="overflow-x-auto">
          <table className="w-full text-left text-sm">
            <thead className="text-xs text-zinc-500 uppercase">
              <tr>
                <th className="py-1 pr-3 font-medium">Node</th>
                <th className="py-1 pr-3 font-medium">Status</th>
                <th className="py-1 pr-3 font-medium">Last seen</th>
                <th className="py-1 pr-3 font-medium">Last sync</th>
                <th className="py-1 pr-3 font-medium">Sync age</th>
                <th className="py-1 pr-3 font-medium">Last cycle</th>
                <th className="py-1 font-medium">Last error</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800">
              {nodes.items.map((node) => (
                <tr key={node.id}>
                  <td className="py-1.5 pr-3 font-medium">{node.name}</td>
                  <td className="py-1.5 pr-3">
                    <StatusBadge status={node.status} />
                  </td>
                  <td className="py-1.5 pr-3" title={node.last_seen_at ?? undefined}>
                    {ago(node.last_seen_at)}
                  </td>
                  <td className="py-1.5 pr-3" title={node.last_sync_at ?? undefined}>
                    {ago(node.last_sync_at)}
                  </td>
                  <td className="py-1.5 pr-3 tabular-nums">{duration(node.sync_age_s)}</td>
                  <td className="py-1.5 pr-3 tabular-nums" data-testid="last-cycle">
                    {node.last_cycle === null ? (
                      '—'
                    ) : (
                      <>
                        <span
                          className={
                            node.last_cycle.outcome === 'ok'
                              ? 'text-emerald-700 dark:text-emerald-400'
                              : 'text-red-600 dark:text-red-400'
                          }
                        >
                          {node.last_cycle.outcome}
                        </span>
                        {node.last_cycle.duration_ms !== null
                          ? ` · ${(node.last_cycle.duration_ms / 1000).toFixed(1)} s`
                          : ''}
                      </>
                    )}
                  </td>
                  <td
                    className="max-w-xs truncate py-1.5 text-red-600 dark:text-red-400"
                    title={node.last_cycle?.error ?? node.last_error ?? undefined}
                  >
                    {node.last_cycle?.error ?? node.last_error ?? ''}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}

function RecentActivity({ items }: { items: DashboardData['recent_activity'] }) {
  return (
    <Card title="Recent activity">
      {items.length === 0 ? (
        <p className="text-sm text-zinc-500">Nothing yet.</p>
      ) : (
        <ol className="space-y-2 text-sm">
          {items.map((event) => (
            <li
              key={`${event.at}|${event.action}|${event.entity_id ?? ''}`}
              className="flex items-baseline justify-between gap-3"
            >
              <span className="min-w-0 truncate">
                <span className="font-mono text-xs">{event.action}</span>
                {event.actor_name ? (
                  <span className="text-zinc-500"> by {event.actor_name}</span>
                ) : null}
              </span>
              <time dateTime={event.at} title={event.at} className="shrink-0 text-xs text-zinc-500">
                {ago(event.at)}
              </time>
            </li>
          ))}
        </ol>
      )}
    </Card>
  );
}

export function Dashboard() {
  const scope = useAdminScope();
  const { data, error, isPending, dataUpdatedAt, isFetching } = useDashboard(scope.all);

  return (
    <div className="space-y-6">
      <div className="flex items-baseline justify-between gap-4">
        <h1 className="text-2xl font-bold">
          Dashboard
          {scope.isAdmin ? (
            <span className="ml-2 text-sm font-normal text-zinc-500">
              {scope.all ? 'all users' : 'your inventory'}
            </span>
          ) : null}
        </h1>
        {data ? (
          <p className="text-xs text-zinc-500" aria-live="polite">
            {isFetching ? 'Refreshing…' : `Updated ${ago(new Date(dataUpdatedAt).toISOString())}`} ·
            every 10 s
          </p>
        ) : null}
      </div>
      {isPending ? (
        <p className="text-sm text-zinc-500" aria-busy="true">
          Loading…
        </p>
      ) : error && !data ? (
        <Card>
          <p role="alert" className="text-sm text-red-600 dark:text-red-400">
            The dashboard could not be loaded: {error.message}
          </p>
        </Card>
      ) : data ? (
        <>
          <div className="grid gap-4 sm:grid-cols-2 lg:grid-cols-5">
            <Counts
              title="Accounts"
              total={data.accounts.total}
              byStatus={data.accounts.by_status}
              extra={[['claimed now', data.accounts.claimed]]}
            />
            <Counts title="Cards" total={data.cards.total} byStatus={data.cards.by_status} />
            <Counts
              title="VMs"
              total={data.vms.total}
              byStatus={data.vms.by_status}
              extra={[
                ['absent', data.vms.absent],
                ['templates', data.vms.templates],
              ]}
            />
            <Counts title="Nodes" total={data.nodes.total} byStatus={data.nodes.by_status} />
            <Counts title="Hardware" total={data.hardware.total} />
          </div>
          <div className="grid gap-4 lg:grid-cols-3">
            <VmStatusChart vms={data.vms} />
            <NodeHealth nodes={data.nodes} />
          </div>
          <RecentActivity items={data.recent_activity} />
        </>
      ) : null}
    </div>
  );
}
