-- `accountdb reset-password`: sets a user's password from the command line, for the admin who
-- cannot log in any more. Like an admin's PATCH /users/{id} with a password, it ends the
-- user's sessions and clears a lockout (the user's and the name's), and is audited.
-- Only the schema owner (the CLI's DATABASE_URL) may call it: it is not granted to
-- accountdb_app, so no API request can reach it.
CREATE FUNCTION auth_reset_password(p_login text, p_password_hash text)
RETURNS uuid
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = '' SET app.role = 'system'
AS $$
DECLARE
  target public.users%ROWTYPE;
  ended integer;
BEGIN
  SELECT * INTO target FROM public.users
  WHERE lower(username) = lower(p_login) OR lower(email) = lower(p_login)
  FOR UPDATE;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  UPDATE public.users
  SET password_hash = p_password_hash, password_changed_at = now(),
      failed_login_count = 0, locked_until = NULL
  WHERE id = target.id;
  UPDATE public.refresh_tokens SET revoked_at = now(), revoked_reason = 'admin'
  WHERE owner_id = target.id AND revoked_at IS NULL;
  GET DIAGNOSTICS ended = ROW_COUNT;
  DELETE FROM public.login_lockouts
  WHERE login_key IN (lower(target.username), lower(target.email));
  INSERT INTO public.audit_log (owner_id, actor_type, actor_name, action, entity_type, entity_id, details)
  VALUES (target.id, 'system', 'accountdb reset-password', 'user.update', 'user', target.id::text,
          jsonb_build_object('fields', '[]'::jsonb, 'password_reset', true, 'via', 'cli',
                             'ended_sessions', ended));
  RETURN target.id;
END
$$;
REVOKE ALL ON FUNCTION public.auth_reset_password(text, text) FROM PUBLIC;
