"""Game rules: movement, starting stats, combat mechanics."""
