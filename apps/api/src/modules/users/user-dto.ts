import type { users } from '../../db/schema.js';
import type { User } from './schemas.js';

type UserRow = typeof users.$inferSelect;

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

/** The API shape of a user row: never the password hash. */
export function toUserDto(row: UserRow): User {
  return {
    id: row.id,
    username: row.username,
    email: row.email,
    role: row.role,
    is_active: row.isActive,
    failed_login_count: row.failedLoginCount,
    locked_until: iso(row.lockedUntil),
    last_login_at: iso(row.lastLoginAt),
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}
