"""Who is calling the API and what they may do: bearer tokens, roles, community scope."""

from server.auth.principal import ALL_ROLES, Principal, Role
from server.auth.tokens import TokenFieldError, hash_token, issue_token, list_tokens, resolve_token, revoke_token

__all__ = [
    "ALL_ROLES",
    "Principal",
    "Role",
    "TokenFieldError",
    "hash_token",
    "issue_token",
    "list_tokens",
    "resolve_token",
    "revoke_token",
]
