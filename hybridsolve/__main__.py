"""``python -m hybridsolve`` runs the command line."""

from hybridsolve.cli import main

raise SystemExit(main())
