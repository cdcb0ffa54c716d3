"""qmsforms: controlled Excel and Word forms for factory quality departments."""

__version__ = "0.1.0"
