"""`python -m bot` runs the same CLI as `storybot`."""

from bot.cli import main

raise SystemExit(main())
