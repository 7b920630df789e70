"""A terminal box office."""
