"""Glue between the websocket layer and the game state."""
