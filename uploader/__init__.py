"""REDEX generation-data uploader: pushes inverters' daily generation into the registry."""

__version__ = "0.1.0"

__all__ = ["__version__"]
