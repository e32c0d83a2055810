"""HTTP API routers (players, rooms, containers, monitoring, real-time)."""
