-- 0015 search that scales with the matches, not with the user's rows, ranked.
--
-- `q` on a list was a condition of the list query itself: a LIKE over the resource's text
-- fields and pg_trgm's word similarity on its name. Under row-level security PostgreSQL may
-- not run a condition that is not LEAKPROOF before the policy's (an index condition runs
-- before), so the trigram indexes were never used: every search read all of the user's rows
-- (bench/README.md, "What limits"). Now a search is one SECURITY DEFINER function per
-- resource, search_<table>(q), that returns the ids of the matching rows of the caller's
-- tenant with their rank. It runs as accountdb_search, a NOLOGIN role that may read only the
-- searched columns and whose only policy is USING (true): nothing stands before its
-- conditions, so the planner uses the indexes below. The tenant is not a parameter: the
-- function takes it from the verified signed context (app_context_claim, migration 0007),
-- as the policies do; a forged, copied or missing context gets nothing, and so do agents,
-- logins and anonymous requests. The list query then joins the ids and still runs as
-- accountdb_app under the tenant policies: the tenant is enforced twice in the database.
--
-- Rank, ascending (lower first), one number so that a keyset cursor holds it exactly:
--   0          the name equals q
--   2 + [0, 1) the name starts with q
--   4 + [0, 1) a text field contains q
--   6 + [0, 1) only similar: the name holds a word similar to q (pg_trgm word similarity
--              >= 0.6: a typo in a longer name) or is similar to it as a whole (similarity
--              >= 0.5: playr77 finds player77)
-- Within a tier the closer match first: 1 - the share of the name (of all the text fields,
-- for a match elsewhere) that q covers, or 1 - the greater of the two similarities. Cheap arithmetic for the
-- tiers that can hold thousands of rows; the similarity is computed only for the fuzzy ones.
-- The caller breaks ties by id. q is lower-cased by the function; LIKE's wildcards in it
-- (% _ \) are literal. A term of one or two characters (no trigram can serve it) matches
-- the start of the name only, through the (owner_id, name) btree.
-- ---------------------------------------------------------------------------------------

-- The role the search functions run as. NOLOGIN, NOINHERIT, owns only those functions.
-- An owner that may not create roles skips it: the functions then stay the owner's and are
-- just as correct (the owner's policy sees every row, the function filters the tenant) but
-- not index-served (docs/operations.md).
DO $$
DECLARE
  may_create boolean := (SELECT rolsuper OR rolcreaterole FROM pg_catalog.pg_roles WHERE rolname = current_user);
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'accountdb_search') THEN
    IF NOT may_create THEN
      RAISE NOTICE 'role accountdb_search not created: % may not create roles (searches work, without their indexes)', current_user;
      RETURN;
    END IF;
    BEGIN
      CREATE ROLE accountdb_search NOLOGIN NOINHERIT NOSUPERUSER NOBYPASSRLS NOCREATEDB
        NOCREATEROLE NOREPLICATION;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL; -- created concurrently by a migration of another database
    END;
  END IF;
END
$$;

-- The indexes the searches use, each led by the owner (btree_gin): a GIN scan then skips
-- through the long lists of common trigrams ("inb", "com", "tes") to the caller's rows
-- instead of reading them for every owner. The text fields (substring; replacing
-- <table>_search_idx of 0002, which only the old row-by-row path had, and cards had none),
-- the name alone (similarity), and a btree on (owner_id, name) for terms too short for
-- trigrams (text_pattern_ops: LIKE 'ab%' whatever the collation).
CREATE EXTENSION IF NOT EXISTS btree_gin;
DROP INDEX accounts_search_idx;
DROP INDEX vms_search_idx;
DROP INDEX hardware_search_idx;
DROP INDEX proxmox_nodes_search_idx;
CREATE INDEX accounts_owner_search_idx ON accounts USING gin (owner_id,
  (lower(username || ' ' || coalesce(email, '') || ' ' || coalesce(external_id, '') || ' ' || service)) gin_trgm_ops);
CREATE INDEX accounts_owner_name_trgm_idx ON accounts USING gin (owner_id, (lower(username)) gin_trgm_ops);
CREATE INDEX accounts_owner_name_prefix_idx ON accounts (owner_id, lower(username) text_pattern_ops);
CREATE INDEX vms_owner_search_idx ON vms USING gin (owner_id,
  (lower(coalesce(name, '') || ' ' || coalesce(vmid::text, '') || ' ' || coalesce(description, ''))) gin_trgm_ops);
CREATE INDEX vms_owner_name_trgm_idx ON vms USING gin (owner_id, (lower(coalesce(name, ''))) gin_trgm_ops);
CREATE INDEX vms_owner_name_prefix_idx ON vms (owner_id, lower(coalesce(name, '')) text_pattern_ops);
CREATE INDEX hardware_owner_search_idx ON hardware USING gin (owner_id,
  (lower(coalesce(pcname, '') || ' ' || coalesce(mac_address, '') || ' ' || coalesce(smbios_uuid::text, '') || ' ' ||
         coalesce(disk_serial, '') || ' ' || coalesce(mb_serial, '') || ' ' || coalesce(mb_product, ''))) gin_trgm_ops);
CREATE INDEX hardware_owner_name_trgm_idx ON hardware USING gin (owner_id, (lower(coalesce(pcname, ''))) gin_trgm_ops);
CREATE INDEX hardware_owner_name_prefix_idx ON hardware (owner_id, lower(coalesce(pcname, '')) text_pattern_ops);
CREATE INDEX proxmox_nodes_owner_search_idx ON proxmox_nodes USING gin (owner_id,
  (lower(name || ' ' || coalesce(hostname, '') || ' ' || coalesce(cluster, ''))) gin_trgm_ops);
CREATE INDEX proxmox_nodes_owner_name_trgm_idx ON proxmox_nodes USING gin (owner_id, (lower(name)) gin_trgm_ops);
CREATE INDEX proxmox_nodes_owner_name_prefix_idx ON proxmox_nodes (owner_id, lower(name) text_pattern_ops);
CREATE INDEX cards_owner_search_idx ON cards USING gin (owner_id,
  (lower(code_hint || ' ' || coalesce(currency, '') || ' ' || coalesce(notes, ''))) gin_trgm_ops);
CREATE INDEX cards_owner_name_prefix_idx ON cards (owner_id, lower(code_hint) text_pattern_ops);

-- One function per searchable table, from one template. name: the name field (exact,
-- prefix, similar); search: the text fields (substring; the expression of <table>_search_idx);
-- fuzzy: whether the name is matched by similarity (cards: no, a masked code is not a word);
-- columns: all the function reads, all accountdb_search may read.
DO $do$
DECLARE
  r record;
  body text;
  has_role boolean := EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'accountdb_search');
  owns boolean := false;
BEGIN
  IF has_role THEN
    BEGIN
      -- ALTER FUNCTION … OWNER TO needs membership of the new owner and the new owner's
      -- CREATE on the schema; the latter is taken back at the end.
      IF NOT pg_catalog.pg_has_role(current_user, 'accountdb_search', 'MEMBER') THEN
        EXECUTE format('GRANT accountdb_search TO %I', current_user);
      END IF;
      GRANT USAGE, CREATE ON SCHEMA public TO accountdb_search;
      owns := true;
    EXCEPTION WHEN insufficient_privilege OR invalid_grant_operation THEN
      RAISE NOTICE 'search functions stay owned by %: %', current_user, SQLERRM;
    END;
  END IF;
  FOR r IN SELECT * FROM (VALUES
    ('accounts', 'lower(t.username)',
     'lower(t.username || '' '' || coalesce(t.email, '''') || '' '' || coalesce(t.external_id, '''') || '' '' || t.service)',
     true, 'id, owner_id, username, email, external_id, service'),
    ('vms', 'lower(coalesce(t.name, ''''))',
     'lower(coalesce(t.name, '''') || '' '' || coalesce(t.vmid::text, '''') || '' '' || coalesce(t.description, ''''))',
     true, 'id, owner_id, name, vmid, description'),
    ('hardware', 'lower(coalesce(t.pcname, ''''))',
     'lower(coalesce(t.pcname, '''') || '' '' || coalesce(t.mac_address, '''') || '' '' || coalesce(t.smbios_uuid::text, '''') || '' '' || coalesce(t.disk_serial, '''') || '' '' || coalesce(t.mb_serial, '''') || '' '' || coalesce(t.mb_product, ''''))',
     true, 'id, owner_id, pcname, mac_address, smbios_uuid, disk_serial, mb_serial, mb_product'),
    ('proxmox_nodes', 'lower(t.name)',
     'lower(t.name || '' '' || coalesce(t.hostname, '''') || '' '' || coalesce(t.cluster, ''''))',
     true, 'id, owner_id, name, hostname, cluster'),
    ('cards', 'lower(t.code_hint)',
     'lower(t.code_hint || '' '' || coalesce(t.currency, '''') || '' '' || coalesce(t.notes, ''''))',
     false, 'id, owner_id, code_hint, currency, notes')
  ) AS v(tbl, name, search, fuzzy, columns) LOOP
    -- $1 q (lower-cased), $2 the owner (NULL: an admin, every owner), $3 '%q%', $4 'q%',
    -- $5 whether q is too short for trigrams, $6 the length of q.
    body := format($q$
      SELECT t.id,
             CASE WHEN %1$s = $1 THEN 0::double precision
                  WHEN %1$s LIKE $4 THEN 3 - $6 / pg_catalog.length(%1$s)::double precision
                  WHEN %2$s LIKE $3 THEN 5 - $6 / pg_catalog.length(%2$s)::double precision
                  ELSE 7 - GREATEST(public.word_similarity($1, %1$s), public.similarity($1, %1$s))::double precision END AS rank
      FROM public.%3$I t
      WHERE ($2 IS NULL OR t.owner_id = $2) AND ($5 AND %1$s LIKE $4 OR NOT $5 AND (%2$s LIKE $3%4$s))$q$,
      r.name, r.search, r.tbl,
      CASE WHEN r.fuzzy THEN format(' OR $1 OPERATOR(public.<%%) %1$s OR $1 OPERATOR(public.%%) %1$s', r.name) ELSE '' END);
    EXECUTE format($f$
      CREATE FUNCTION public.search_%1$s(p_q text)
      RETURNS TABLE (id uuid, rank double precision)
      LANGUAGE plpgsql STABLE SECURITY DEFINER
      SET search_path = '' SET pg_trgm.word_similarity_threshold = 0.6 SET pg_trgm.similarity_threshold = 0.5
      ROWS 100
      AS $body$
      DECLARE
        q text := pg_catalog.lower(p_q);
        v_role text := public.app_context_claim('role');
        v_owner uuid;
        v_like text;
      BEGIN
        IF q IS NULL OR q = '' THEN
          RETURN;
        END IF;
        IF v_role = 'user' THEN
          v_owner := public.app_context_claim('user')::uuid;
          IF v_owner IS NULL THEN
            RETURN;
          END IF;
        ELSIF v_role IS DISTINCT FROM 'admin' THEN
          RETURN; -- agents, logins, anonymous requests, no or a forged context
        END IF;
        v_like := pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(q, '\', '\\'), '%%', '\%%'), '_', '\_');
        -- Planned for these values on every call (EXECUTE): the parameters are constants to
        -- the planner, so an admin's NULL owner and the short-term switch fold away, and the
        -- trigram indexes are chosen for the term at hand.
        RETURN QUERY EXECUTE %2$L
          USING q, v_owner, '%%' || v_like || '%%', v_like || '%%', pg_catalog.length(q) < 3,
                pg_catalog.length(q)::double precision;
      END
      $body$$f$, r.tbl, body);
    EXECUTE format('REVOKE ALL ON FUNCTION public.search_%s(text) FROM PUBLIC', r.tbl);
    EXECUTE format('GRANT EXECUTE ON FUNCTION public.search_%s(text) TO accountdb_app', r.tbl);
    IF owns THEN
      EXECUTE format('GRANT SELECT (%s) ON public.%I TO accountdb_search', r.columns, r.tbl);
      EXECUTE format('CREATE POLICY search_read ON public.%I FOR SELECT TO accountdb_search USING (true)', r.tbl);
      EXECUTE format('ALTER FUNCTION public.search_%s(text) OWNER TO accountdb_search', r.tbl);
    END IF;
  END LOOP;
  IF owns THEN
    REVOKE CREATE ON SCHEMA public FROM accountdb_search;
    GRANT EXECUTE ON FUNCTION public.app_context_claim(text) TO accountdb_search;
  END IF;
END
$do$;
