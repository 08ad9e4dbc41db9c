-- 0016 the claim's order index holds only the accounts a claim can pick (issue 15, part 3).
--
-- POST /accounts/claim walks accounts_owner_claim_idx (0006) in claim order, claimed_at NULLS
-- FIRST, id, and skips the rows its other conditions refuse. Disabled and banned accounts
-- that were never claimed keep claimed_at NULL and so sit at the head of that order for
-- good: once the free accounts before them have been claimed (and moved to the end), every
-- claim read past all of them. The claim now also says its status condition as
-- status = 'active' OR (status = 'locked' AND locked_until <= now()) (the effective status,
-- a lapsed lock counting as active), which implies this index's predicate, so the planner
-- uses the partial index; disabled and banned accounts are not in it. Nothing else reads in
-- this order, so the full index goes.
CREATE INDEX accounts_owner_claimable_idx ON accounts (owner_id, claimed_at NULLS FIRST, id)
  WHERE status IN ('active', 'locked');
DROP INDEX accounts_owner_claim_idx;
