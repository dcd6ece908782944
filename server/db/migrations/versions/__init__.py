"""Revision scripts, oldest first by their `NNNN_` prefix; `python -m server.db.migrate revision -m "..."` adds one."""
