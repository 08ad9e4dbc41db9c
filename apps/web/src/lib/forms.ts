import type { FieldValues, Path, UseFormSetError } from 'react-hook-form';
import { toast } from 'sonner';
import { z } from 'zod';
import { fieldErrors, problemMessage } from '../api/problem';

// Zod compiles object schemas with new Function() where it may, and finds out by trying. The
// pages' Content Security Policy allows no eval (apps/web/server/page-security.mjs): parse
// without compiling, and do not try. Every form's schema comes with this module.
z.config({ jitless: true });

/**
 * Shows a problem+json answer where it belongs: each error whose path names a field of the
 * form next to that field, anything else (or a problem without field errors) as a toast.
 */
export function showProblem<T extends FieldValues>(
  problem: unknown,
  fields: ReadonlyArray<Path<T>>,
  setError: UseFormSetError<T>,
): void {
  const byField = fieldErrors(problem);
  let shown = 0;
  for (const [field, message] of Object.entries(byField)) {
    if ((fields as readonly string[]).includes(field)) {
      setError(field as Path<T>, { type: 'server', message });
      shown++;
    }
  }
  if (shown === 0) toast.error(problemMessage(problem));
}

// The rules of the API's NewUserBody (docs/auth.md, "Passwords and names").
export const username = z
  .string()
  .min(3, 'At least 3 characters.')
  .max(64, 'At most 64 characters.')
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
    'Letters, digits, ".", "_" and "-", starting with a letter or digit.',
  );
export const email = z.email('A valid e-mail address.').max(254, 'At most 254 characters.');
export const password = z
  .string()
  .min(12, 'At least 12 characters.')
  .max(1024, 'At most 1024 characters.');

export const newUserSchema = z.object({ username, email, password });
export type NewUser = z.infer<typeof newUserSchema>;

export const loginSchema = z.object({
  username: z.string().trim().min(1, 'Enter your username or e-mail.').max(254),
  password: z.string().min(1, 'Enter your password.').max(1024),
});
export type LoginValues = z.infer<typeof loginSchema>;
