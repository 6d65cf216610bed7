"""``python -m flashstack.cli``: same as the ``flashstack`` console script."""

from . import main

if __name__ == "__main__":
    main()
