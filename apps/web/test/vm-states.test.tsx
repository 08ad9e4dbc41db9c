import { cleanup, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { VM_STATUS_HINTS, VM_STATUSES } from '../src/features/vms/vm-states';
import { VmStatusBadge } from '../src/features/vms/vm-status-badge';

afterEach(cleanup);

describe('VM state badges', () => {
  it('lists every state the API knows, each described', () => {
    expect([...VM_STATUSES].sort()).toEqual(Object.keys(VM_STATUS_HINTS).sort());
    expect(VM_STATUSES).toEqual(
      expect.arrayContaining(['suspended', 'io-error', 'migrating', 'prelaunch', 'internal-error']),
    );
  });

  it('shows each state with its own colour and its meaning on hover', () => {
    const classes = new Set<string>();
    for (const status of VM_STATUSES) {
      render(<VmStatusBadge status={status} />);
      const badge = screen.getByText(status);
      expect(badge.getAttribute('title')).toBe(VM_STATUS_HINTS[status]);
      classes.add(badge.className);
      cleanup();
    }
    expect(classes.size).toBe(VM_STATUSES.length);
  });

  it('shows a state it does not know as plain text without a hint', () => {
    render(<VmStatusBadge status="hibernating" />);
    expect(screen.getByText('hibernating').getAttribute('title')).toBeNull();
  });
});
