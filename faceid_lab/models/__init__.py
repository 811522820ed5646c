"""Models: small, flat modules with explicit shapes."""
