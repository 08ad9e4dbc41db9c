'use client';

import Link from 'next/link';
import { useState } from 'react';
import { type Collision, HARDWARE_FIELDS, useCollisions } from './queries';

const label = (field: string) => HARDWARE_FIELDS.find(([f]) => f === field)?.[1] ?? field;

/**
 * Identifiers that more than one hardware profile carries (two "machines" with one MAC look
 * like one machine to a service). With `hardwareId`, only the collisions of that profile.
 */
export function CollisionsBanner({ hardwareId }: { hardwareId?: string }) {
  const collisions = useCollisions();
  const [open, setOpen] = useState(false);
  const items: Collision[] = (collisions.data ?? []).filter(
    (c) => !hardwareId || c.hardware_ids.includes(hardwareId),
  );
  if (items.length === 0) return null;
  return (
    <div
      role="status"
      className="rounded-md border border-amber-300 bg-amber-50 p-3 text-sm text-amber-900 dark:border-amber-900 dark:bg-amber-950/50 dark:text-amber-200"
    >
      <div className="flex flex-wrap items-center justify-between gap-2">
        <p>
          {hardwareId
            ? `This profile shares ${items.length === 1 ? 'an identifier' : `${items.length} identifiers`} with other profiles.`
            : `${items.length} ${items.length === 1 ? 'identifier is' : 'identifiers are'} shared by more than one hardware profile.`}
        </p>
        <button
          type="button"
          className="underline"
          aria-expanded={open}
          onClick={() => setOpen((o) => !o)}
        >
          {open ? 'Hide' : 'Show'} collisions
        </button>
      </div>
      {open ? (
        <ul className="mt-2 space-y-1">
          {items.map((c) => (
            <li key={`${c.field}-${c.value}-${c.owner_id}`}>
              <span className="font-medium">{label(c.field)}</span>{' '}
              <code className="font-mono">{c.value}</code> ×{c.count}:{' '}
              {c.hardware_ids
                .filter((id) => id !== hardwareId)
                .map((id, i) => (
                  <span key={id}>
                    {i > 0 ? ', ' : ''}
                    <Link href={`/hardware/${id}`} className="underline">
                      {id.slice(-8)}
                    </Link>
                  </span>
                ))}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
