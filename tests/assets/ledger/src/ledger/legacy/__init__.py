"""Code another team owns: the plan excludes it."""
