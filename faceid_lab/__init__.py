"""faceid-lab: a notebook course on identity-preserving face synthesis."""

__version__ = "0.1.0"
