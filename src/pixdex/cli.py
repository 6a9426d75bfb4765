"""The ``pixdex`` command line: a thin typer layer over the Python API."""

import typer

app = typer.Typer(no_args_is_help=True, help="Near-duplicate image search.")


@app.command()
def version() -> None:
    """Print the pixdex version."""
    from importlib.metadata import version as package_version

    typer.echo(package_version("pixdex"))
