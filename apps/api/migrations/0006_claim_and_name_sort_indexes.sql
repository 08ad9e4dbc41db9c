-- 0006 two indexes the benchmarks (bench/README.md) found missing at 1M accounts and VMs.
--
-- Claiming an account (POST /accounts/claim) picks the owner's least recently claimed free
-- account: ORDER BY claimed_at NULLS FIRST, id ... FOR UPDATE SKIP LOCKED. Without an index in
-- that order every free account of the owner was read and sorted (the row lock keeps the sort
-- from being a top-1 sort) on every claim, while the claimers wait for each other.
CREATE INDEX accounts_owner_claim_idx ON accounts (owner_id, claimed_at NULLS FIRST, id);

-- GET /vms?sort=name (and -name) sorted every VM of the owner for each page.
CREATE INDEX vms_owner_name_idx ON vms (owner_id, lower(coalesce(name, '')), id);
