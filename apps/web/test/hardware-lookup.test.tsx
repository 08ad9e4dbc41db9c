import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HardwareLookup } from '../src/features/hardware/hardware-lookup';
import { isMac, isUuid } from '../src/features/hardware/queries';

afterEach(cleanup);

describe('hardware identifier rules (as the API accepts them)', () => {
  it('takes MACs in any common spelling and nothing else', () => {
    for (const mac of ['BC:24:11:5E:0A:01', 'bc-24-11-5e-0a-01', 'bc24.115e.0a01', 'bc24115e0a01'])
      expect(isMac(mac), mac).toBe(true);
    for (const bad of ['bc:24:11:5e:0a', 'zz:24:11:5e:0a:01', 'bc:24:11:5e:0a:01:02'])
      expect(isMac(bad), bad).toBe(false);
  });

  it('takes UUIDs with or without braces and dashes', () => {
    for (const uuid of [
      '4c4c4544-0042-3510-8052-b4c04f4e4d32',
      '{4C4C4544-0042-3510-8052-B4C04F4E4D32}',
      '4c4c454400423510 8052b4c04f4e4d32'.replace(' ', ''),
    ])
      expect(isUuid(uuid), uuid).toBe(true);
    expect(isUuid('4c4c4544-0042-3510-8052')).toBe(false);
    expect(isUuid('4c4c4544-0042-3510-8052-b4c04f4e4dzz')).toBe(false);
  });
});

describe('HardwareLookup', () => {
  it('refuses a malformed MAC with the hint and does not filter', () => {
    const onChange = vi.fn();
    render(<HardwareLookup values={{}} onChange={onChange} />);
    fireEvent.change(screen.getByLabelText('MAC address to find'), {
      target: { value: 'bc:24:11' },
    });
    fireEvent.click(screen.getByRole('button', { name: 'Find' }));
    expect(screen.getByRole('alert').textContent).toContain('A MAC address like');
    expect(onChange).not.toHaveBeenCalled();
  });

  it('one identifier at a time: a lookup replaces the previous ones', () => {
    const onChange = vi.fn();
    render(<HardwareLookup values={{ mac_address: 'bc24115e0a01' }} onChange={onChange} />);
    fireEvent.change(screen.getByLabelText('Identifier'), { target: { value: 'smbios_uuid' } });
    fireEvent.change(screen.getByLabelText('SMBIOS UUID to find'), {
      target: { value: '{4C4C4544-0042-3510-8052-B4C04F4E4D32}' },
    });
    fireEvent.click(screen.getByRole('button', { name: 'Find' }));
    expect(onChange).toHaveBeenCalledWith({
      mac_address: null,
      uuid: null,
      smbios_uuid: '{4C4C4544-0042-3510-8052-B4C04F4E4D32}',
      machine_guid: null,
      hwprofile_guid: null,
    });
  });

  it('shows the active filter as a chip that removes it', () => {
    const onChange = vi.fn();
    render(<HardwareLookup values={{ mac_address: 'bc24115e0a01' }} onChange={onChange} />);
    fireEvent.click(screen.getByRole('button', { name: 'Remove filter MAC address' }));
    expect(onChange).toHaveBeenCalledWith({ mac_address: null });
  });
});
