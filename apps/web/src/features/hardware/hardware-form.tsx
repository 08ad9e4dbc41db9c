'use client';

import { zodResolver } from '@hookform/resolvers/zod';
import { Controller, useForm } from 'react-hook-form';
import { z } from 'zod';
import { ApiError } from '../../api/problem';
import { TagInput } from '../../components/tag-input';
import { Field, FormActions, TextAreaField } from '../../components/ui';
import { showProblem } from '../../lib/forms';
import { AccountPicker } from '../accounts/account-picker';
import {
  HARDWARE_FIELDS,
  type Hardware,
  type HardwareField,
  isMac,
  isUuid,
  MAC_HINT,
  type NewHardware,
  UUID_FIELDS,
  UUID_HINT,
} from './queries';

const text = z.string().trim().max(200, 'At most 200 characters.');
const mac = z
  .string()
  .trim()
  .refine((v) => v === '' || isMac(v), MAC_HINT);
const uuid = z
  .string()
  .trim()
  .refine((v) => v === '' || isUuid(v), UUID_HINT);

// The rules of the API's CreateHardware (apps/api/src/modules/hardware/schemas.ts): text up to
// 200 characters, MACs in any common spelling, UUIDs with or without braces and dashes.
export const hardwareFormSchema = z.object({
  ...(Object.fromEntries(
    HARDWARE_FIELDS.map(([field]) => [
      field,
      field === 'mac_address' ? mac : UUID_FIELDS.includes(field) ? uuid : text,
    ]),
  ) as Record<HardwareField, typeof text>),
  account_id: z.string().nullable(),
  tags: z.array(z.string().min(1).max(64)).max(50, 'At most 50 tags.'),
  notes: z.string().max(20_000, 'At most 20,000 characters.'),
});
type HardwareFormValues = z.infer<typeof hardwareFormSchema>;

/** What the API gets: every identifier (blank → null), tags, notes, and on create the account. */
export function toHardwareBody(values: HardwareFormValues, creating: boolean): NewHardware {
  const body: Record<string, unknown> = { tags: values.tags, notes: values.notes || null };
  for (const [field] of HARDWARE_FIELDS) body[field] = values[field] || null;
  if (creating && values.account_id) body.account_id = values.account_id;
  return body as NewHardware;
}

/**
 * Create or edit a hardware profile: every identifier a machine presents. On create it can
 * be linked to an account at once; an existing profile's links are changed on its page.
 */
export function HardwareForm({
  hardware,
  submitLabel,
  onSubmit,
  onCancel,
}: {
  hardware?: Hardware;
  submitLabel: string;
  onSubmit: (body: NewHardware) => Promise<unknown>;
  onCancel?: () => void;
}) {
  const {
    register,
    handleSubmit,
    control,
    setError,
    formState: { errors, isSubmitting },
  } = useForm<HardwareFormValues>({
    resolver: zodResolver(hardwareFormSchema),
    defaultValues: {
      ...(Object.fromEntries(
        HARDWARE_FIELDS.map(([field]) => [
          field,
          (hardware?.[field] as string | null | undefined) ?? '',
        ]),
      ) as Record<HardwareField, string>),
      account_id: null,
      tags: hardware?.tags ?? [],
      notes: hardware?.notes ?? '',
    },
  });
  const creating = hardware === undefined;
  const submit = handleSubmit(async (values) => {
    try {
      await onSubmit(toHardwareBody(values, creating));
    } catch (error) {
      showProblem<HardwareFormValues>(
        error instanceof ApiError ? error.problem : error,
        [...HARDWARE_FIELDS.map(([f]) => f), 'account_id', 'tags', 'notes'],
        setError,
      );
    }
  });
  return (
    <form onSubmit={submit} noValidate className="space-y-4">
      <div className="grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
        {HARDWARE_FIELDS.map(([field, label]) => (
          <Field
            key={field}
            label={label}
            spellCheck={false}
            autoComplete="off"
            {...register(field)}
            error={errors[field]?.message}
          />
        ))}
      </div>
      {creating ? (
        <Controller
          control={control}
          name="account_id"
          render={({ field }) => (
            <div>
              <AccountPicker
                accountId={field.value}
                onChange={async (accountId) => field.onChange(accountId)}
              />
              {errors.account_id?.message ? (
                <p role="alert" className="text-sm text-red-600 dark:text-red-400">
                  {errors.account_id.message}
                </p>
              ) : null}
            </div>
          )}
        />
      ) : null}
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
      <TextAreaField label="Notes" rows={3} {...register('notes')} error={errors.notes?.message} />
      <FormActions submitLabel={submitLabel} submitting={isSubmitting} onCancel={onCancel} />
    </form>
  );
}
