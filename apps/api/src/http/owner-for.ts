import type { Actor } from '../db/tenant.js';
import { ForbiddenError } from './errors.js';

/** The owner of what a request creates or claims: the caller, or the user an admin names. */
export function ownerFor(actor: Actor, ownerId: string | undefined): string {
  if (actor.kind !== 'user') throw new ForbiddenError();
  if (ownerId === undefined || ownerId === actor.userId) return actor.userId;
  if (actor.role !== 'admin')
    throw new ForbiddenError('Only an admin may act for another user.', 'admin_only');
  return ownerId;
}
