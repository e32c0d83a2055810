"""Workspace: what touches the user's files on disk — atomic writes, crash points, the apply lock, transactions.

The lowest layer: it imports nothing else of the package except ``asyncmigrate.errors``."""
