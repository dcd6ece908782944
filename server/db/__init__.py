"""Storage of the server: tables, the aware-UTC column type, engines and sessions."""
