"""Configuration: the migration plan (``migration_plan.yaml``) and the codebase's module layout."""

PLAN_FILENAME = "migration_plan.yaml"
