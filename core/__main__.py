"""`python -m graphdeck` is the `graphdeck` command."""

from .cli import main

raise SystemExit(main())
