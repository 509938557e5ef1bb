"""What a token's `scope` may name. Casbin decides what each department may read; scopes
say which kinds of call a client makes at all."""

SCOPES = ("read", "write", "ingest", "admin", "audit")
