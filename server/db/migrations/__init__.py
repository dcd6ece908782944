"""Alembic migration scripts of the server's schema; run them through `server.db.migrate`, never by hand."""
