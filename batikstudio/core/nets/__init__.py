"""core/nets."""
