"""The `forvalg` command line (Typer + Rich): `create_cli()` builds it."""
