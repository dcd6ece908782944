"""The operators' web dashboard: static files served by the API server, calling the JSON API with a token."""

from server.dashboard.routes import mount_dashboard

__all__ = ["mount_dashboard"]
