"""Checks: the regression gate (``asyncmigrate check``) and the un-awaited coroutine analysis it runs."""
