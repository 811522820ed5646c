"""Training: one explicit loop per game, shared checkpointing."""
