"""`python -m tower` is the `tower` command."""

from tower.cli import main

main()
