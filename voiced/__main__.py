"""Entry point for ``python -m voiced``."""

from voiced.cli import main

raise SystemExit(main())
