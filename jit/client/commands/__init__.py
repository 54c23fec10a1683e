"""One module per use case; each exposes `register(subparsers, parents)`."""
