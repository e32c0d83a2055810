"""An order shop whose service methods and repository functions are async."""
