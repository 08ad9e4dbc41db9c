'use client';

import Link from 'next/link';
import { useState } from 'react';
import { useAdminScope } from '../scope/admin-scope';
import { type Collision, HARDWARE_FIELDS, useCollisions } from './queries';

const LABELS: Record<string, string> = Object.fromEntries(HARDWARE_FIELDS);
const label = (field: string) => LABELS[field] ?? field;

/** The list filtered to the records carrying a colliding value, where the list can do that. */
function listHref(c: Collision): string | null {
  if (['mac_address', 'smbios_uuid', 'machine_guid', 'hwprofile_guid'].includes(c.field))
    return `/hardware?${new URLSearchParams({ [c.field]: c.value })}`;
  // The list's search covers disk and board serials.
  if (c.field === 'disk_serial' || c.field === 'mb_serial')
    return `/hardware?${new URLSearchParams({ q: c.value })}`;
  return null;
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/**
 * Identifiers that more than one hardware profile carries (two "machines" with one MAC look
 * like one machine to a service). With `hardwareId`, only the collisions of that profile.
 */
export function CollisionsBanner({ hardwareId }: { hardwareId?: string }) {
  const collisions = useCollisions(useAdminScope().all);
  const [open, setOpen] = useState(false);
  const items: Collision[] = (collisions.data ?? []).filter(
    (c) => !hardwareId || c.hardware_ids.includes(hardwareId),
  );
  if (items.length === 0) return null;
  const profiles = new Set(items.flatMap((c) => c.hardware_ids));
  const fields = [...new Set(items.map((c) => label(c.field)))];
  const message = hardwareId
    ? `This profile shares its ${fields.join(', ')} with ${plural(profiles.size - 1, 'other profile', 'other profiles')}.`
    : `${profiles.size} hardware profiles share an identifier (${fields.join(', ')}).`;
  return (
    <div
      role="status"
      className="rounded-md border border-amber-300 bg-amber-50 p-3 text-sm text-amber-900 dark:border-amber-900 dark:bg-amber-950/50 dark:text-amber-200"
    >
      <div className="flex flex-wrap items-center justify-between gap-2">
        <p>
          <span aria-hidden="true">⚠ </span>
          {message}
        </p>
        <button
          type="button"
          className="rounded underline focus-visible:outline-2 focus-visible:outline-amber-600"
          aria-expanded={open}
          onClick={() => setOpen((o) => !o)}
        >
          {open ? 'Hide' : 'Show'} collisions
        </button>
      </div>
      {open ? (
        <ul className="mt-2 space-y-1.5" aria-label="Collisions">
          {items.map((c) => {
            const href = listHref(c);
            const others = c.hardware_ids.filter((id) => id !== hardwareId);
            return (
              <li key={`${c.field}-${c.value}-${c.owner_id}`} className="break-words">
                <span className="font-medium">{label(c.field)}</span>{' '}
                <code className="font-mono text-xs">{c.value}</code> on{' '}
                {plural(c.count, 'profile', 'profiles')}
                {href ? (
                  <>
                    {' '}
                    (
                    <Link href={href} className="underline">
                      show {hardwareId ? 'them' : 'in the list'}
                    </Link>
                    )
                  </>
                ) : null}
                :{' '}
                {others.map((id, i) => (
                  <span key={id}>
                    {i > 0 ? ', ' : ''}
                    <Link
                      href={`/hardware/${id}`}
                      className="font-mono text-xs underline"
                      aria-label={`Profile ${id}`}
                    >
                      {id.slice(-8)}
                    </Link>
                  </span>
                ))}
              </li>
            );
          })}
        </ul>
      ) : null}
    </div>
  );
}
