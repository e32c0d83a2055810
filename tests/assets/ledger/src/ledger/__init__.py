"""A small bookkeeping service."""
