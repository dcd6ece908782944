"""The HTTP API of the server: routes and their typed dependencies."""
