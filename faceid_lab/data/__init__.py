"""Data: the SynthFaces renderer, shards and datasets, real faces."""
