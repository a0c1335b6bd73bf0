"""The package version, in a leaf module so that any layer can read it without importing nst."""

__version__ = "0.2.0"
