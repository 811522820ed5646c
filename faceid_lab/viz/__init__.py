"""Pictures: image grids, the SynthFaces explorer, curves."""

from .grids import image_grid, save_grid, show_images

__all__ = ["image_grid", "save_grid", "show_images"]
