"""The sync persistence facade: ``get_persistence()`` and the ``PersistenceLayer`` it returns.

The async repositories live in ``server.persistence.repositories``.
"""

from server.persistence.layer import PersistenceLayer, get_persistence, reset_persistence

__all__ = ["PersistenceLayer", "get_persistence", "reset_persistence"]
