import { describe, expect, it } from 'vitest';
import { entityLabel } from '../src/features/audit/audit-list';

describe("an audit entry's About", () => {
  it('names the entity when the API gives its name', () => {
    expect(
      entityLabel({ entity_type: 'proxmox_node', entity_id: 'x-123456', entity_name: 'pve1' }),
    ).toBe('proxmox node pve1');
  });

  it("falls back to the id's tail without a name, and to a dash without an entity", () => {
    expect(
      entityLabel({
        entity_type: 'account',
        entity_id: '0194c3a2-7b1e-7c3d-9f00-1a2b3c414159',
        entity_name: null,
      }),
    ).toBe('account …414159');
    expect(entityLabel({ entity_type: null, entity_id: null, entity_name: null })).toBe('—');
  });
});
