'use client';

import { zodResolver } from '@hookform/resolvers/zod';
import { Controller, useForm } from 'react-hook-form';
import { z } from 'zod';
import { ApiError } from '../../api/problem';
import { TagInput } from '../../components/tag-input';
import { Field, FormActions, SelectField, TextAreaField } from '../../components/ui';
import { showProblem } from '../../lib/forms';
import { useNodeOptions } from '../nodes/queries';
import { type NewVm, VM_STATUSES, type Vm } from './queries';

const optionalInt = (max: number) =>
  z
    .string()
    .trim()
    .refine(
      (v) => v === '' || (/^\d+$/.test(v) && Number(v) <= max),
      `A whole number up to ${max}.`,
    );

const list = (max: number, item: RegExp, message: string) =>
  z
    .string()
    .transform((v) => v.split(/[\s,]+/).filter(Boolean))
    .refine((v) => v.length <= max, `At most ${max}.`)
    .refine((v) => v.every((x) => item.test(x)), message);

// The rules of the API's CreateVm (apps/api/src/modules/vms/schemas.ts).
const vmFormSchema = z.object({
  name: z.string().trim().max(200, 'At most 200 characters.'),
  vmid: z
    .string()
    .trim()
    .refine(
      (v) => v === '' || (/^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 999_999_999),
      'A VMID from 1 to 999999999.',
    ),
  node_id: z.string(),
  type: z.enum(['qemu', 'lxc']),
  status: z.enum(VM_STATUSES),
  cpu_cores: optionalInt(100_000),
  memory_mb: optionalInt(1_000_000_000_000),
  disk_gb: z
    .string()
    .trim()
    .refine((v) => v === '' || (!Number.isNaN(Number(v)) && Number(v) >= 0), 'A number of GB.'),
  ip_addresses: list(
    100,
    /^[0-9a-fA-F.:/]{2,64}$/,
    'IPv4 or IPv6 addresses, separated by spaces or commas.',
  ),
  mac_addresses: list(
    64,
    /^([0-9A-Fa-f]{2}[:-]?){5}[0-9A-Fa-f]{2}$/,
    'MAC addresses like BC:24:11:5E:0A:01.',
  ),
  smbios_uuid: z
    .string()
    .trim()
    .refine((v) => v === '' || (v.length >= 32 && v.length <= 38), 'A UUID (32 to 38 characters).'),
  description: z.string().max(8192, 'At most 8192 characters.'),
  tags: z.array(z.string().min(1).max(64)).max(50, 'At most 50 tags.'),
  notes: z.string().max(20_000, 'At most 20,000 characters.'),
});
type VmFormInput = z.input<typeof vmFormSchema>;
type VmFormValues = z.output<typeof vmFormSchema>;
const FIELDS = [
  'name',
  'vmid',
  'node_id',
  'type',
  'status',
  'cpu_cores',
  'memory_mb',
  'disk_gb',
  'ip_addresses',
  'mac_addresses',
  'smbios_uuid',
  'description',
  'tags',
  'notes',
] as const;

const num = (v: string) => (v === '' ? null : Number(v));

/** A VM entered by hand (agent-synced VMs are edited by their agent; only notes and tags here). */
export function VmForm({
  vm,
  submitLabel,
  onSubmit,
  onCancel,
}: {
  vm?: Vm;
  submitLabel: string;
  onSubmit: (body: NewVm) => Promise<unknown>;
  onCancel?: () => void;
}) {
  const nodes = useNodeOptions();
  const {
    register,
    handleSubmit,
    control,
    setError,
    formState: { errors, isSubmitting },
  } = useForm<VmFormInput, unknown, VmFormValues>({
    resolver: zodResolver(vmFormSchema),
    defaultValues: {
      name: vm?.name ?? '',
      vmid: vm?.vmid ? String(vm.vmid) : '',
      node_id: vm?.node_id ?? '',
      type: vm?.type ?? 'qemu',
      status: vm?.status ?? 'stopped',
      cpu_cores: vm?.cpu_cores != null ? String(vm.cpu_cores) : '',
      memory_mb: vm?.memory_mb != null ? String(vm.memory_mb) : '',
      disk_gb: vm?.disk_gb != null ? String(vm.disk_gb) : '',
      ip_addresses: vm?.ip_addresses.join(', ') ?? '',
      mac_addresses: vm?.mac_addresses.join(', ') ?? '',
      smbios_uuid: vm?.smbios_uuid ?? '',
      description: vm?.description ?? '',
      tags: vm?.tags ?? [],
      notes: vm?.notes ?? '',
    },
  });
  const submit = handleSubmit(async (v) => {
    const body: NewVm = {
      name: v.name || null,
      vmid: num(v.vmid),
      node_id: v.node_id || null,
      type: v.type,
      status: v.status,
      cpu_cores: num(v.cpu_cores),
      memory_mb: num(v.memory_mb),
      disk_gb: num(v.disk_gb),
      ip_addresses: v.ip_addresses,
      mac_addresses: v.mac_addresses,
      smbios_uuid: v.smbios_uuid || null,
      description: v.description || null,
      tags: v.tags,
      notes: v.notes || null,
    };
    try {
      await onSubmit(body);
    } catch (error) {
      showProblem<VmFormInput>(
        error instanceof ApiError ? error.problem : error,
        [...FIELDS],
        setError,
      );
    }
  });
  return (
    <form onSubmit={submit} noValidate className="space-y-4">
      <div className="grid gap-4 sm:grid-cols-3">
        <Field label="Name" {...register('name')} error={errors.name?.message} />
        <Field
          label="VMID"
          inputMode="numeric"
          {...register('vmid')}
          error={errors.vmid?.message}
        />
        <SelectField
          label="Node"
          options={[
            { value: '', label: 'none' },
            ...(nodes.data ?? []).map((n) => ({ value: n.id, label: n.name })),
          ]}
          {...register('node_id')}
          error={errors.node_id?.message}
        />
        <SelectField
          label="Type"
          options={[
            { value: 'qemu', label: 'VM (qemu)' },
            { value: 'lxc', label: 'container (lxc)' },
          ]}
          {...register('type')}
        />
        <SelectField
          label="Status"
          options={VM_STATUSES.map((s) => ({ value: s, label: s }))}
          {...register('status')}
        />
        <Field
          label="CPU cores"
          inputMode="numeric"
          {...register('cpu_cores')}
          error={errors.cpu_cores?.message}
        />
        <Field
          label="Memory (MiB)"
          inputMode="numeric"
          {...register('memory_mb')}
          error={errors.memory_mb?.message}
        />
        <Field
          label="Disk (GB)"
          inputMode="decimal"
          {...register('disk_gb')}
          error={errors.disk_gb?.message}
        />
        <Field
          label="SMBIOS UUID"
          {...register('smbios_uuid')}
          error={errors.smbios_uuid?.message}
        />
      </div>
      <div className="grid gap-4 sm:grid-cols-2">
        <Field
          label="IP addresses"
          hint="Separated by spaces or commas."
          {...register('ip_addresses')}
          error={errors.ip_addresses?.message}
        />
        <Field
          label="MAC addresses"
          {...register('mac_addresses')}
          error={errors.mac_addresses?.message}
        />
        <TextAreaField
          label="Description"
          rows={3}
          {...register('description')}
          error={errors.description?.message}
        />
        <TextAreaField
          label="Notes"
          rows={3}
          {...register('notes')}
          error={errors.notes?.message}
        />
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
      <FormActions submitLabel={submitLabel} submitting={isSubmitting} onCancel={onCancel} />
    </form>
  );
}
