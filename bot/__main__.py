"""`python -m bot` runs the same CLI as the `backups-bot` console script."""

from bot.app.cli import main

raise SystemExit(main())
