"""The version of qmsforms, in a module of its own so that library modules can name it without
loading the public API in ``qmsforms/__init__.py``."""

__version__ = "0.1.0"
