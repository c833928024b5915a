"""Web blueprints, one per audience."""
