-- `accountdb rotate-key`: re-wraps the owners' data keys from the previous master key to the
-- current one, a batch at a time (the unwrapping and wrapping happen in the CLI; the
-- database never sees a master key). Only the schema owner may call these: they are not
-- granted to accountdb_app.

-- Data keys still wrapped by a master key, a batch at a time.
CREATE FUNCTION secrets_data_keys_wrapped_by(p_kid text, p_limit integer)
RETURNS TABLE (id uuid, owner_id uuid, wrapped_key bytea)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = '' SET app.role = 'system'
AS $$
  SELECT d.id, d.owner_id, d.wrapped_key FROM public.data_keys d
  WHERE d.master_kid = p_kid ORDER BY d.id LIMIT p_limit
$$;
REVOKE ALL ON FUNCTION secrets_data_keys_wrapped_by(text, integer) FROM PUBLIC;

-- How many data keys a master key wraps (the rotation's progress).
CREATE FUNCTION secrets_data_keys_count(p_kid text) RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = '' SET app.role = 'system'
AS $$ SELECT count(*) FROM public.data_keys d WHERE d.master_kid = p_kid $$;
REVOKE ALL ON FUNCTION secrets_data_keys_count(text) FROM PUBLIC;

-- Replaces one wrapped data key, only if it is still wrapped by p_from_kid (a concurrent
-- rotation or a re-run changes nothing twice). True when the row was changed.
CREATE FUNCTION secrets_rewrap_data_key(p_id uuid, p_from_kid text, p_to_kid text, p_wrapped_key bytea)
RETURNS boolean
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = '' SET app.role = 'system'
AS $$
  WITH changed AS (
    UPDATE public.data_keys SET master_kid = p_to_kid, wrapped_key = p_wrapped_key
    WHERE id = p_id AND master_kid = p_from_kid
    RETURNING 1
  )
  SELECT EXISTS (SELECT 1 FROM changed)
$$;
REVOKE ALL ON FUNCTION secrets_rewrap_data_key(uuid, text, text, bytea) FROM PUBLIC;
