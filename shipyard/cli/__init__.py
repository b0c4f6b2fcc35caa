"""The command-line interface: a Typer app, one module per command group.

The top layer: may import runners and everything below; nothing imports it.
"""
