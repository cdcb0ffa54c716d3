"""``python -m qmsforms``: the same as the ``qmsforms`` command."""

from .cli import main

if __name__ == "__main__":  # a spawned reader process imports this module too
    main()
