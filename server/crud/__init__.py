"""Database operations of the server as keyword-only functions over a session."""
