"""``python -m spacefold``: the same as the ``spacefold`` command."""

from spacefold.cli import main

if __name__ == "__main__":
    main()
