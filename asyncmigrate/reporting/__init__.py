"""Reporting: progress and the machine-readable report formats (markdown, JSON, JUnit, SARIF)."""
