"""One module per ``stancebench`` subcommand; each defines ``add_parser(subparsers)`` and ``run(args)``."""
