'use client';

import { zodResolver } from '@hookform/resolvers/zod';
import { Controller, useForm } from 'react-hook-form';
import { z } from 'zod';
import { ApiError } from '../../api/problem';
import { TagInput } from '../../components/tag-input';
import { Field, FormActions, SelectField, TextAreaField } from '../../components/ui';
import { showProblem } from '../../lib/forms';
import { ACCOUNT_STATUSES, type Account, type AccountPatch, type NewAccount } from './queries';
import { STEAM_SECRET_HINT, steamSecretProblem } from './steam-secret';

/** The secret fields of an account, with the label the form and the detail page show. */
export const SECRET_FIELDS = [
  ['password', 'Password'],
  ['email_password', 'E-mail password'],
  ['vault_password', 'Vault password'],
  ['totp_secret', '2FA secret'],
  ['shared_secret', 'Steam shared secret'],
  ['identity_secret', 'Steam identity secret'],
  ['revocation_code', 'Revocation code'],
] as const;
export type SecretField = (typeof SECRET_FIELDS)[number][0];

/** A Steam secret's problem as a form error (the API would refuse it the same way). */
function steamSecretIssue(value: string, ctx: z.RefinementCtx) {
  const problem = steamSecretProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
}

const optionalText = (max: number) => z.string().trim().max(max, `At most ${max} characters.`);
const secret = z.string().max(4096, 'At most 4096 characters.');

// The rules of the API's CreateAccount / UpdateAccount (apps/api/src/modules/accounts/schemas.ts).
export const accountFormSchema = z
  .object({
    service: z
      .string()
      .trim()
      .min(1, 'Enter the service, e.g. steam.')
      .max(50, 'At most 50 characters.'),
    username: z.string().trim().min(1, 'Enter the username.').max(200, 'At most 200 characters.'),
    email: optionalText(254),
    external_id: optionalText(200),
    status: z.enum(ACCOUNT_STATUSES),
    locked_until: z.string(),
    status_reason: optionalText(500),
    tags: z
      .array(z.string().min(1).max(64, 'Tags have at most 64 characters.'))
      .max(50, 'At most 50 tags.'),
    notes: z.string().max(20_000, 'At most 20,000 characters.'),
    password: secret,
    email_password: secret,
    vault_password: secret,
    totp_secret: secret.refine(
      (v) => v === '' || /^otpauth:\/\/totp\//i.test(v) || /^[A-Za-z2-7\s=-]+$/.test(v),
      'Base32 letters and digits 2-7, or an otpauth://totp/ URI.',
    ),
    shared_secret: secret.superRefine(steamSecretIssue),
    identity_secret: secret.superRefine(steamSecretIssue),
    revocation_code: secret,
    clear: z.array(z.string()),
  })
  .refine(
    (v) =>
      v.status !== 'locked' || v.locked_until === '' || !Number.isNaN(Date.parse(v.locked_until)),
    {
      path: ['locked_until'],
      message: 'A valid date and time.',
    },
  );
export type AccountFormValues = z.infer<typeof accountFormSchema>;

const FIELDS = [
  'service',
  'username',
  'email',
  'external_id',
  'status',
  'locked_until',
  'status_reason',
  'tags',
  'notes',
  ...SECRET_FIELDS.map(([f]) => f),
] as const;

function defaults(account?: Account): AccountFormValues {
  return {
    service: account?.service ?? 'steam',
    username: account?.username ?? '',
    email: account?.email ?? '',
    external_id: account?.external_id ?? '',
    status: account?.status ?? 'active',
    locked_until: account?.locked_until ? account.locked_until.slice(0, 16) : '',
    status_reason: account?.status_reason ?? '',
    tags: account?.tags ?? [],
    notes: account?.notes ?? '',
    password: '',
    email_password: '',
    vault_password: '',
    totp_secret: '',
    shared_secret: '',
    identity_secret: '',
    revocation_code: '',
    clear: [],
  };
}

/** The request body: new secrets typed in, removed ones as null; blank secrets stay as they are. */
export function toBody(values: AccountFormValues, editing: boolean): NewAccount & AccountPatch {
  const nullable = (v: string) => (v.trim() === '' ? null : v.trim());
  const body: Record<string, unknown> = {
    service: values.service,
    username: values.username,
    email: nullable(values.email),
    external_id: nullable(values.external_id),
    status: values.status,
    locked_until:
      values.status === 'locked' && values.locked_until
        ? new Date(values.locked_until).toISOString()
        : null,
    status_reason: nullable(values.status_reason),
    tags: values.tags,
    notes: nullable(values.notes),
  };
  for (const [field] of SECRET_FIELDS) {
    if (values[field] !== '') body[field] = values[field];
    else if (editing && values.clear.includes(field)) body[field] = null;
  }
  if (!editing) {
    for (const key of Object.keys(body)) if (body[key] === null) delete body[key];
  }
  return body as NewAccount & AccountPatch;
}

/**
 * Create or edit an account. Secrets are write-only: on edit a blank secret keeps the stored
 * one, "Remove" deletes it. Errors of the API show next to their fields.
 */
export function AccountForm({
  account,
  submitLabel,
  onSubmit,
  onCancel,
}: {
  account?: Account;
  submitLabel: string;
  onSubmit: (body: NewAccount & AccountPatch) => Promise<unknown>;
  onCancel?: () => void;
}) {
  const editing = account !== undefined;
  const {
    register,
    handleSubmit,
    control,
    watch,
    setError,
    formState: { errors, isSubmitting },
  } = useForm<AccountFormValues>({
    resolver: zodResolver(accountFormSchema),
    defaultValues: defaults(account),
  });
  const status = watch('status');
  const clear = watch('clear');

  const submit = handleSubmit(async (values) => {
    try {
      await onSubmit(toBody(values, editing));
    } catch (error) {
      showProblem<AccountFormValues>(
        error instanceof ApiError ? error.problem : error,
        FIELDS as unknown as Array<keyof AccountFormValues>,
        setError,
      );
    }
  });

  return (
    <form onSubmit={submit} noValidate className="space-y-6">
      <fieldset className="grid gap-4 sm:grid-cols-2">
        <legend className="mb-2 text-sm font-semibold text-zinc-600 dark:text-zinc-300">
          Account
        </legend>
        <Field label="Service" {...register('service')} error={errors.service?.message} />
        <Field
          label="Username"
          autoComplete="off"
          {...register('username')}
          error={errors.username?.message}
        />
        <Field
          label="E-mail"
          type="email"
          autoComplete="off"
          {...register('email')}
          error={errors.email?.message}
        />
        <Field
          label="External id"
          hint="The account's id at its service, e.g. a SteamID64. Imports match on it."
          {...register('external_id')}
          error={errors.external_id?.message}
        />
        <SelectField
          label="Status"
          options={ACCOUNT_STATUSES.map((s) => ({ value: s, label: s }))}
          {...register('status')}
          error={errors.status?.message}
        />
        {status === 'locked' ? (
          <Field
            label="Locked until"
            type="datetime-local"
            hint="Empty: locked until changed."
            {...register('locked_until')}
            error={errors.locked_until?.message}
          />
        ) : (
          <div />
        )}
        <Field
          label="Status reason"
          {...register('status_reason')}
          error={errors.status_reason?.message}
        />
        <Controller
          control={control}
          name="tags"
          render={({ field }) => (
            <TagInput
              label="Tags"
              value={field.value}
              onChange={field.onChange}
              error={errors.tags?.message}
            />
          )}
        />
      </fieldset>

      <fieldset className="grid gap-4 sm:grid-cols-2">
        <legend className="mb-1 text-sm font-semibold text-zinc-600 dark:text-zinc-300">
          Secrets
        </legend>
        <p className="text-xs text-zinc-500 sm:col-span-2">
          Stored encrypted and never shown in lists.{' '}
          {editing ? 'Leave a field blank to keep what is stored.' : ''}
        </p>
        {SECRET_FIELDS.map(([field, label]) => {
          const stored = editing && account?.[`has_${field}` as keyof Account] === true;
          return (
            <div key={field} className="space-y-1">
              <Field
                label={label}
                type={field === 'totp_secret' || field === 'revocation_code' ? 'text' : 'password'}
                autoComplete="new-password"
                spellCheck={false}
                placeholder={
                  stored
                    ? clear.includes(field)
                      ? 'will be removed'
                      : 'stored — type to replace'
                    : ''
                }
                {...register(field)}
                {...(field === 'shared_secret' || field === 'identity_secret'
                  ? { hint: STEAM_SECRET_HINT }
                  : {})}
                error={errors[field]?.message}
              />
              {stored ? (
                <label className="flex items-center gap-2 text-xs text-zinc-500">
                  <input type="checkbox" value={field} {...register('clear')} />
                  Remove the stored {label.toLowerCase()}
                </label>
              ) : null}
            </div>
          );
        })}
      </fieldset>

      <TextAreaField label="Notes" rows={4} {...register('notes')} error={errors.notes?.message} />

      <FormActions submitLabel={submitLabel} submitting={isSubmitting} onCancel={onCancel} />
    </form>
  );
}
