"""Who is calling the API and what they may do: bearer tokens, roles, community scope."""

from server.auth.principal import ALL_ROLES, Principal, Role
from server.auth.tokens import hash_token, issue_token, resolve_token

__all__ = ["ALL_ROLES", "Principal", "Role", "hash_token", "issue_token", "resolve_token"]
