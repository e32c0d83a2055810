"""The bundled game server: a small multiplayer MUD set in Lovecraft country.

Phase 1 of its persistence refactoring is complete: the game talks to the database through the
synchronous facade in ``server.persistence``; the async repositories in
``server.persistence.repositories`` exist but are not used yet.
"""
