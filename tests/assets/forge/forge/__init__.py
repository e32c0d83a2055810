"""A crafting workshop: blueprints, items on benches, a ledger of who owns what."""
