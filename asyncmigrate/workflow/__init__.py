"""Workflow: the commands that change a codebase — apply, rollback, test runs, plan generation (init)."""
