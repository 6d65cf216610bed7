"""``python -m flashstack``: same as the ``flashstack`` console script."""

from flashstack.cli import main

if __name__ == "__main__":
    main()
