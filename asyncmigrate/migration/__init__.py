"""Migration: which functions turn async (propagation), what blocks a file (blockers, doubts, limits)."""
