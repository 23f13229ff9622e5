"""`python -m symbackprop`: the command line, as the `symbackprop` script runs it."""

from .cli import main

if __name__ == "__main__":
    main()
