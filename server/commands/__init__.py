"""Player commands typed in the game client."""
