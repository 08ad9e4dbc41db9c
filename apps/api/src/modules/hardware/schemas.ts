import { Type } from 'typebox';
import {
  LooseMac,
  LooseUuid,
  Notes,
  Nullable,
  Tags,
  Timestamp,
  UuidString,
} from '../../http/resource/fields.js';
import { OwnerRef } from '../../http/scope.js';

const Text = (description: string) => Type.String({ maxLength: 200, description });

/** Identifier fields of a hardware profile, as the API names them. */
export const TEXT_FIELDS = [
  'bios_vendor',
  'bios_version',
  'disk_serial',
  'disk_model',
  'mb_manufacturer',
  'mb_product',
  'mb_version',
  'mb_serial',
  'pcname',
  'product_id',
  'device_id',
] as const;
export const UUID_FIELDS = ['smbios_uuid', 'machine_guid', 'hwprofile_guid'] as const;

const descriptions: Record<(typeof TEXT_FIELDS)[number], string> = {
  bios_vendor: 'BIOS vendor',
  bios_version: 'BIOS version',
  disk_serial: 'System disk serial number',
  disk_model: 'System disk model',
  mb_manufacturer: 'Motherboard manufacturer',
  mb_product: 'Motherboard product',
  mb_version: 'Motherboard version',
  mb_serial: 'Motherboard serial number',
  pcname: 'Computer name',
  product_id: 'Windows product id',
  device_id: 'Device id',
};

const writable = {
  external_id: Type.Optional(
    Nullable(
      Type.String({
        minLength: 1,
        maxLength: 200,
        description:
          "The record's id where it came from (the earlier AccountDB's hardware id); unique per owner, " +
          'the key a re-import matches on',
        examples: ['4711'],
      }),
    ),
  ),
  account_id: Type.Optional(
    Nullable(Type.String({ format: 'uuid', description: 'Account using this profile' })),
  ),
  vm_id: Type.Optional(
    Nullable(Type.String({ format: 'uuid', description: 'VM carrying this profile' })),
  ),
  ...Object.fromEntries(
    TEXT_FIELDS.map((f) => [f, Type.Optional(Nullable(Text(descriptions[f])))]),
  ),
  smbios_uuid: Type.Optional(
    Nullable({ ...LooseUuid, description: 'SMBIOS system UUID (Proxmox smbios1 uuid)' }),
  ),
  machine_guid: Type.Optional(Nullable({ ...LooseUuid, description: 'Windows MachineGuid' })),
  hwprofile_guid: Type.Optional(Nullable({ ...LooseUuid, description: 'Windows HwProfileGuid' })),
  mac_address: Type.Optional(Nullable(LooseMac)),
  tags: Type.Optional(Tags),
  notes: Type.Optional(Nullable(Notes)),
};

export const CreateHardware = Type.Object(writable, {
  additionalProperties: false,
  examples: [
    {
      bios_vendor: 'SeaBIOS',
      bios_version: 'rel-1.16.3',
      disk_serial: 'drive-scsi0',
      disk_model: 'QEMU HARDDISK',
      mb_manufacturer: 'QEMU',
      mb_product: 'Standard PC (Q35 + ICH9, 2009)',
      pcname: 'DESKTOP-7F3K2LQ',
      smbios_uuid: '{4C4C4544-0042-3510-8052-B4C04F4E4D32}',
      machine_guid: '6f1c9a2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b',
      mac_address: 'bc-24-11-5e-0a-01',
      tags: ['eu'],
    },
    { pcname: 'DESKTOP-Q81ZC0M', mac_address: 'BC24115E0A02' },
  ],
});
export const UpdateHardware = Type.Object(writable, {
  additionalProperties: false,
  minProperties: 1,
  examples: [
    { account_id: '0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f' },
    { mac_address: 'BC:24:11:5E:0A:03', notes: 'NIC replaced' },
  ],
});

export const Hardware = Type.Object(
  {
    id: UuidString,
    owner_id: UuidString,
    owner: Type.Optional(OwnerRef),
    external_id: Nullable(Type.String()),
    account_id: Nullable(UuidString),
    vm_id: Nullable(UuidString),
    ...Object.fromEntries(TEXT_FIELDS.map((f) => [f, Nullable(Type.String())])),
    smbios_uuid: Nullable(Type.String()),
    machine_guid: Nullable(Type.String()),
    hwprofile_guid: Nullable(Type.String()),
    mac_address: Nullable(Type.String()),
    tags: Type.Array(Type.String()),
    notes: Nullable(Type.String()),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  {
    $id: 'Hardware',
    description: 'A hardware profile: the identifiers a machine presents',
    examples: [
      {
        id: '0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f',
        owner_id: '0194c3a2-0000-7000-8000-000000000001',
        external_id: null,
        account_id: null,
        vm_id: null,
        bios_vendor: 'SeaBIOS',
        bios_version: 'rel-1.16.3',
        disk_serial: 'drive-scsi0',
        disk_model: 'QEMU HARDDISK',
        mb_manufacturer: 'QEMU',
        mb_product: 'Standard PC (Q35 + ICH9, 2009)',
        mb_version: 'pc-q35-8.1',
        mb_serial: null,
        pcname: 'DESKTOP-7F3K2LQ',
        product_id: '00330-80000-00000-AA123',
        device_id: null,
        smbios_uuid: '4c4c4544-0042-3510-8052-b4c04f4e4d32',
        machine_guid: null,
        hwprofile_guid: null,
        mac_address: 'BC:24:11:5E:0A:01',
        tags: ['eu'],
        notes: null,
        created_at: '2026-11-24T12:00:00.000Z',
        updated_at: '2026-11-24T12:00:00.000Z',
      },
    ],
  },
);
