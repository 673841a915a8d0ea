"""`python -m ctsite` runs the command line."""

from ctsite.cli import main

main()
