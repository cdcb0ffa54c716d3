"""``python -m qmsforms``: the same as the ``qmsforms`` command."""

from .cli import main

main()
