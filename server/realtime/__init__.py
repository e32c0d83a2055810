"""Real-time play over websockets."""
