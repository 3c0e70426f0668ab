"""The `microfut` command line (typer + rich): thin commands over library code."""
