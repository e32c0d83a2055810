"""asyncmigrate: move a codebase from a sync persistence facade to async repositories."""

__version__ = "0.1.0"
