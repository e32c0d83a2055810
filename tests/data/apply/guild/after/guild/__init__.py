"""A guild's membership desk: dependency-injected code over a synchronous ledger."""
