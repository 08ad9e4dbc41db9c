'use client';

import { zodResolver } from '@hookform/resolvers/zod';
import { Controller, useForm } from 'react-hook-form';
import { z } from 'zod';
import { ApiError } from '../../api/problem';
import { TagInput } from '../../components/tag-input';
import { Field, FormActions, TextAreaField } from '../../components/ui';
import { showProblem } from '../../lib/forms';
import { HARDWARE_FIELDS, type Hardware, type HardwareField, type NewHardware } from './queries';

const MAC = /^([0-9A-Fa-f]{2}[:-]?){5}[0-9A-Fa-f]{2}$|^([0-9A-Fa-f]{4}\.){2}[0-9A-Fa-f]{4}$/;
const UUID =
  /^\{?[0-9A-Fa-f]{8}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{12}\}?$/;
const UUIDS: readonly string[] = ['smbios_uuid', 'machine_guid', 'hwprofile_guid'];

const text = z.string().trim().max(200, 'At most 200 characters.');
// The rules of the API's CreateHardware (apps/api/src/modules/hardware/schemas.ts): MACs in
// any common spelling (12–17 characters), UUIDs with or without braces (32–38).
export const hardwareFormSchema = z.object({
  ...(Object.fromEntries(
    HARDWARE_FIELDS.map(([field]) => [
      field,
      field === 'mac_address'
        ? z
            .string()
            .trim()
            .refine((v) => v === '' || MAC.test(v), 'A MAC address like BC:24:11:5E:0A:01.')
        : UUIDS.includes(field)
          ? z
              .string()
              .trim()
              .refine(
                (v) => v === '' || UUID.test(v),
                'A UUID like 4c4c4544-0042-3510-8052-b4c04f4e4d32.',
              )
          : text,
    ]),
  ) as Record<HardwareField, typeof text>),
  tags: z.array(z.string().min(1).max(64)).max(50, 'At most 50 tags.'),
  notes: z.string().max(20_000, 'At most 20,000 characters.'),
});
type HardwareFormValues = z.infer<typeof hardwareFormSchema>;

/** Create or edit a hardware profile: every identifier a machine presents. */
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
      tags: hardware?.tags ?? [],
      notes: hardware?.notes ?? '',
    },
  });
  const submit = handleSubmit(async (values) => {
    const body: Record<string, unknown> = { tags: values.tags, notes: values.notes || null };
    for (const [field] of HARDWARE_FIELDS) body[field] = values[field] || null;
    try {
      await onSubmit(body as NewHardware);
    } catch (error) {
      showProblem<HardwareFormValues>(
        error instanceof ApiError ? error.problem : error,
        [...HARDWARE_FIELDS.map(([f]) => f), 'tags', 'notes'],
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
            {...register(field)}
            error={errors[field]?.message}
          />
        ))}
      </div>
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
