-- 0011 every guest state Proxmox can report (issue 14, part 2).
--
-- Before, a VM was running, stopped, paused or unknown, and the agent turned every other QEMU
-- run state into unknown. Proxmox's /cluster/resources reports `qmpstatus || status` for a
-- QEMU guest (pvestatd), i.e. any QEMU RunState; the agent now maps each of them onto one of
-- the states below (docs/agent.md, "Guest states", is the one table of that mapping):
--   suspended      ACPI S3 (`suspended`), or hibernated to disk (stopped + lock `suspended`)
--   io-error       paused by QEMU after a failed disk I/O
--   migrating      `inmigrate`, `postmigrate`, `finish-migrate`
--   prelaunch      QEMU started, guest not yet run
--   internal-error `internal-error`, `guest-panicked`, `watchdog`
-- Existing rows keep their value: every old state is still allowed. vm_status_events has no
-- list of states (it records whatever vms.status was), so it needs no change.
ALTER TABLE vms DROP CONSTRAINT vms_status_check;
ALTER TABLE vms ADD CONSTRAINT vms_status_check CHECK (status IN (
  'running', 'stopped', 'paused', 'suspended', 'io-error', 'migrating', 'prelaunch',
  'internal-error', 'unknown'
));
