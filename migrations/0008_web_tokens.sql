--
-- 0008_web_tokens: bearer tokens of `pgswarm web` (its REST API and dashboard). A token is shown
-- once when it is made; only its SHA-256 is stored, so a copy of the database gives no access.
-- Scopes nest: read < enqueue (add and cancel tasks) < admin (retry, priority, pause, bulk).
--
create table swarm.web_tokens (
  id bigint generated always as identity primary key,
  name text not null
    constraint web_tokens_name_unique unique
    constraint web_tokens_name_is_simple check (name ~ '^[A-Za-z0-9][A-Za-z0-9_.@-]{0,62}$'),
  scope text not null
    constraint web_tokens_scope_known check (scope in ('read', 'enqueue', 'admin')),
  token_sha256 bytea not null
    constraint web_tokens_token_sha256_unique unique,
  created_at timestamptz not null default now(),
  created_by text not null default session_user,
  expires_at timestamptz,
  last_used_at timestamptz,
  revoked_at timestamptz
);
revoke all on swarm.web_tokens from public;
comment on table swarm.web_tokens is
  'bearer tokens of pgswarm web: name, scope, sha256 of the token (the token itself is never stored)';
