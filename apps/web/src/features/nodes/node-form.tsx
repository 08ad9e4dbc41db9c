'use client';

import { zodResolver } from '@hookform/resolvers/zod';
import { Controller, useForm } from 'react-hook-form';
import { z } from 'zod';
import { ApiError } from '../../api/problem';
import { TagInput } from '../../components/tag-input';
import { Field, FormActions, TextAreaField } from '../../components/ui';
import { showProblem } from '../../lib/forms';
import type { NewNode, ProxmoxNode } from './queries';

// The rules of the API's CreateNode / UpdateNode (apps/api/src/modules/proxmox-nodes/schemas.ts).
const nodeFormSchema = z.object({
  name: z
    .string()
    .trim()
    .min(1, 'Enter the Proxmox node name, e.g. pve1.')
    .max(100, 'At most 100 characters.'),
  hostname: z.string().trim().max(253, 'At most 253 characters.'),
  port: z.coerce
    .number<string | number>()
    .int('A whole number.')
    .min(1, 'From 1 to 65535.')
    .max(65_535, 'From 1 to 65535.'),
  cluster: z.string().trim().max(100, 'At most 100 characters.'),
  sync_interval_s: z.coerce
    .number<string | number>()
    .int('A whole number of seconds.')
    .min(10, 'At least 10 seconds.')
    .max(3600, 'At most 3600 seconds.'),
  tags: z.array(z.string().min(1).max(64)).max(50, 'At most 50 tags.'),
  notes: z.string().max(20_000, 'At most 20,000 characters.'),
});
type NodeFormInput = z.input<typeof nodeFormSchema>;
type NodeFormValues = z.output<typeof nodeFormSchema>;
const FIELDS = ['name', 'hostname', 'port', 'cluster', 'sync_interval_s', 'tags', 'notes'] as const;

/** Register or edit a node. The name must be the node's name in Proxmox (the agent reads it). */
export function NodeForm({
  node,
  submitLabel,
  onSubmit,
  onCancel,
}: {
  node?: ProxmoxNode;
  submitLabel: string;
  onSubmit: (body: NewNode) => Promise<unknown>;
  onCancel?: () => void;
}) {
  const {
    register,
    handleSubmit,
    control,
    setError,
    formState: { errors, isSubmitting },
  } = useForm<NodeFormInput, unknown, NodeFormValues>({
    resolver: zodResolver(nodeFormSchema),
    defaultValues: {
      name: node?.name ?? '',
      hostname: node?.hostname ?? '',
      port: node?.port ?? 8006,
      cluster: node?.cluster ?? '',
      sync_interval_s: node?.sync_interval_s ?? 60,
      tags: node?.tags ?? [],
      notes: node?.notes ?? '',
    },
  });
  const submit = handleSubmit(async (values) => {
    const body: NewNode = {
      name: values.name,
      hostname: values.hostname || null,
      port: values.port,
      cluster: values.cluster || null,
      sync_interval_s: values.sync_interval_s,
      tags: values.tags,
      notes: values.notes || null,
    };
    try {
      await onSubmit(body);
    } catch (error) {
      showProblem<NodeFormInput>(
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
          label="Name"
          hint="As Proxmox names the node (pvecm nodes), e.g. pve1."
          {...register('name')}
          error={errors.name?.message}
        />
        <Field
          label="Host name"
          hint="For your reference."
          {...register('hostname')}
          error={errors.hostname?.message}
        />
        <Field label="Port" type="number" {...register('port')} error={errors.port?.message} />
        <Field label="Cluster" {...register('cluster')} error={errors.cluster?.message} />
        <Field
          label="Sync interval (seconds)"
          type="number"
          {...register('sync_interval_s')}
          error={errors.sync_interval_s?.message}
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
      </div>
      <TextAreaField label="Notes" rows={3} {...register('notes')} error={errors.notes?.message} />
      <FormActions submitLabel={submitLabel} submitting={isSubmitting} onCancel={onCancel} />
    </form>
  );
}
