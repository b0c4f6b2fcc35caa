"""`python -m shipyard` runs the CLI."""

from shipyard._startup import pause_collection

pause_collection()  # before Typer's import too; resumed when the command's work starts

from shipyard.cli.main import main  # noqa: E402

main()
