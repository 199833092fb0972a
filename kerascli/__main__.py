"""`python -m kerascli` entry point."""

from kerascli.cli import main

if __name__ == "__main__":
    main()
