-- 0009: hardware records get an external_id, the record's id in the system it came from (the
-- earlier AccountDB's hardware.id, as digits), unique per owner: a re-import of the same file
-- (POST /hardware/import, accountdb import hardware, accountdb migrate-legacy) matches and
-- updates the record it created instead of adding a second one.
ALTER TABLE hardware ADD COLUMN external_id text CHECK (char_length(external_id) BETWEEN 1 AND 200);
CREATE UNIQUE INDEX hardware_owner_external_key ON hardware (owner_id, external_id) WHERE external_id IS NOT NULL;
