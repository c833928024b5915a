"""Domain operations: plain functions over the database session, no Flask request objects."""
