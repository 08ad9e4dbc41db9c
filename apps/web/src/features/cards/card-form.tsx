'use client';

import { zodResolver } from '@hookform/resolvers/zod';
import { Controller, useForm } from 'react-hook-form';
import { z } from 'zod';
import { ApiError } from '../../api/problem';
import { TagInput } from '../../components/tag-input';
import { Field, FormActions, SelectField, TextAreaField } from '../../components/ui';
import { showProblem } from '../../lib/forms';
import type { CardRecord, NewCard } from './queries';

// The rules of the API's CreateCard / UpdateCard (apps/api/src/modules/cards/schemas.ts).
export const cardFormSchema = z.object({
  code1: z.string().trim().max(500, 'At most 500 characters.'),
  code2: z.string().trim().max(500, 'At most 500 characters.'),
  remove_code2: z.boolean(),
  value: z
    .string()
    .trim()
    .refine(
      (v) =>
        v === '' || (!Number.isNaN(Number(v)) && Number(v) >= 0 && Number(v) <= 999_999_999_999),
      'A value of 0 or more.',
    ),
  currency: z
    .string()
    .trim()
    .refine((v) => v === '' || /^[A-Za-z]{3}$/.test(v), 'A three-letter currency code, e.g. EUR.'),
  status: z.enum(['available', 'disabled']),
  expires_at: z.string(),
  tags: z.array(z.string().min(1).max(64)).max(50, 'At most 50 tags.'),
  notes: z.string().max(20_000, 'At most 20,000 characters.'),
});
type CardFormValues = z.infer<typeof cardFormSchema>;
const FIELDS = [
  'code1',
  'code2',
  'value',
  'currency',
  'status',
  'expires_at',
  'tags',
  'notes',
] as const;

/** Create a card, or edit one (a blank code keeps the stored one). */
export function CardForm({
  card,
  submitLabel,
  onSubmit,
  onCancel,
}: {
  card?: CardRecord;
  submitLabel: string;
  onSubmit: (body: NewCard) => Promise<unknown>;
  onCancel?: () => void;
}) {
  const editing = card !== undefined;
  const {
    register,
    handleSubmit,
    control,
    setError,
    formState: { errors, isSubmitting },
  } = useForm<CardFormValues>({
    resolver: zodResolver(
      cardFormSchema.refine((v) => editing || v.code1 !== '', {
        path: ['code1'],
        message: 'Enter the card code.',
      }),
    ),
    defaultValues: {
      code1: '',
      code2: '',
      remove_code2: false,
      value: card?.value != null ? String(card.value) : '',
      currency: card?.currency ?? '',
      status: card?.status === 'disabled' ? 'disabled' : 'available',
      expires_at: card?.expires_at ? card.expires_at.slice(0, 10) : '',
      tags: card?.tags ?? [],
      notes: card?.notes ?? '',
    },
  });
  const submit = handleSubmit(async (v) => {
    const body: Record<string, unknown> = {
      value: v.value === '' ? null : Number(v.value),
      currency: v.currency ? v.currency.toUpperCase() : null,
      expires_at: v.expires_at ? new Date(`${v.expires_at}T23:59:59Z`).toISOString() : null,
      tags: v.tags,
      notes: v.notes || null,
    };
    if (v.code1) body.code1 = v.code1;
    if (v.code2) body.code2 = v.code2;
    else if (v.remove_code2) body.code2 = null;
    if (!editing || card?.status === 'available' || card?.status === 'disabled')
      body.status = v.status;
    try {
      await onSubmit(body as NewCard);
    } catch (error) {
      showProblem<CardFormValues>(
        error instanceof ApiError ? error.problem : error,
        [...FIELDS],
        setError,
      );
    }
  });
  return (
    <form onSubmit={submit} noValidate className="space-y-4">
      <div className="grid gap-4 sm:grid-cols-2">
        <Field
          label="Code"
          autoComplete="off"
          spellCheck={false}
          placeholder={editing ? 'stored — type to replace' : 'AAAA-BBBB-CCCC-DDDD'}
          {...register('code1')}
          error={errors.code1?.message}
        />
        <div className="space-y-1">
          <Field
            label="Second code"
            hint="A PIN or serial some cards have."
            autoComplete="off"
            spellCheck={false}
            placeholder={card?.has_code2 ? 'stored — type to replace' : undefined}
            {...register('code2')}
            error={errors.code2?.message}
          />
          {card?.has_code2 ? (
            <label className="flex items-center gap-2 text-sm">
              <input type="checkbox" {...register('remove_code2')} />
              Remove the stored second code
            </label>
          ) : null}
        </div>
        <Field
          label="Value"
          inputMode="decimal"
          {...register('value')}
          error={errors.value?.message}
        />
        <Field
          label="Currency"
          placeholder="EUR"
          {...register('currency')}
          error={errors.currency?.message}
        />
        <Field
          label="Expires"
          type="date"
          {...register('expires_at')}
          error={errors.expires_at?.message}
        />
        {!editing || card?.status === 'available' || card?.status === 'disabled' ? (
          <SelectField
            label="Status"
            options={[
              { value: 'available', label: 'available' },
              { value: 'disabled', label: 'disabled (kept back)' },
            ]}
            {...register('status')}
          />
        ) : (
          <div />
        )}
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
