-- Bearer tokens of `pgswarm web` (table swarm.web_tokens, migration 0008). A token is
-- 'pgsw_' and 64 hex digits from two gen_random_uuid() calls (pg_strong_random: 244 random bits);
-- only its SHA-256 is stored. Made and revoked by the schema owner (`pgswarm web token ...`).

-- swarm._web_token_hash: the stored form of a token.
create or replace function swarm._web_token_hash(token text) returns bytea
language sql immutable parallel safe
return sha256(convert_to(token, 'UTF8'));

-- swarm.create_web_token: make a token; the only time its text is seen.
--   guarantees: the token is stored hashed; a name is used once.
--   raises:     SW005 bad name, unknown scope, name taken, expiry in the past.
--   notifies:   nothing.
create or replace function swarm.create_web_token(name text, scope text, expires_at timestamptz default null)
returns text
language plpgsql volatile security definer set search_path = pg_catalog, swarm
as $$
declare
  v_token text := 'pgsw_' || replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '');
begin
  if create_web_token.scope is null or create_web_token.scope not in ('read', 'enqueue', 'admin') then
    perform swarm._invalid(format('unknown token scope %L', create_web_token.scope),
                           'a scope is read, enqueue (read + add and cancel tasks) or admin (everything)');
  end if;
  if create_web_token.name is null or create_web_token.name !~ '^[A-Za-z0-9][A-Za-z0-9_.@-]{0,62}$' then
    perform swarm._invalid(format('token name %L is not a simple name', create_web_token.name),
                           'use letters, digits, _ . @ - (at most 63), e.g. grafana or alice@laptop');
  end if;
  if create_web_token.expires_at <= swarm.now() then
    perform swarm._invalid(format('token expiry %s is not in the future', create_web_token.expires_at));
  end if;
  if exists (select 1 from swarm.web_tokens as t where t.name = create_web_token.name) then
    perform swarm._invalid(format('a web token named %L exists already', create_web_token.name),
                           format('revoke it first (pgswarm web token revoke %s) or choose another name',
                                  create_web_token.name));
  end if;
  insert into swarm.web_tokens (name, scope, token_sha256, expires_at)
  values (create_web_token.name, create_web_token.scope, swarm._web_token_hash(v_token), create_web_token.expires_at);
  return v_token;
end
$$;
comment on function swarm.create_web_token(text, text, timestamptz)
  is 'make a bearer token for pgswarm web (scope read, enqueue or admin); returns the token, stored only hashed';

-- swarm.revoke_web_token: a token stops working at once (the server's cache holds it 10 s at most).
--   raises: SW005 no such token.   returns: when it was revoked (the first time, if revoked before).
create or replace function swarm.revoke_web_token(name text)
returns timestamptz
language plpgsql volatile security definer set search_path = pg_catalog, swarm
as $$
declare
  v_at timestamptz;
begin
  update swarm.web_tokens as t set revoked_at = coalesce(t.revoked_at, swarm.now())
   where t.name = revoke_web_token.name
  returning t.revoked_at into v_at;
  if not found then
    perform swarm._invalid(format('no web token named %L', revoke_web_token.name),
                           'list them with: pgswarm web token list');
  end if;
  return v_at;
end
$$;
comment on function swarm.revoke_web_token(text) is 'revoke a pgswarm web token by name';

-- swarm.web_token_scope: the name and scope of a token that works now; no row when it is unknown,
-- revoked or expired.
--   guarantees: last_used_at is kept to the minute (one write a minute per token, not per request).
create or replace function swarm.web_token_scope(token text)
returns table (name text, scope text)
language plpgsql volatile security definer set search_path = pg_catalog, swarm
as $$
declare
  v_now timestamptz := swarm.now();
  v_token swarm.web_tokens;
begin
  select t.* into v_token from swarm.web_tokens as t
   where t.token_sha256 = swarm._web_token_hash(web_token_scope.token);
  if not found or v_token.revoked_at is not null or v_token.expires_at <= v_now then
    return;
  end if;
  if v_token.last_used_at is null or v_token.last_used_at < v_now - interval '1 minute' then
    update swarm.web_tokens as t set last_used_at = v_now where t.id = v_token.id;
  end if;
  name := v_token.name;
  scope := v_token.scope;
  return next;
end
$$;
comment on function swarm.web_token_scope(text) is 'name and scope of a working pgswarm web token (no row: unknown, revoked or expired)';
