"""`python -m workers.cli`: the same entry point as the `warroom` script (the tests run it this way)."""

from workers.cli import main

main()
