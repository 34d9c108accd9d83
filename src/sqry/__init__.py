"""sqry: local semantic code search served by the sqryd daemon."""

__version__ = "0.1.0"
