"""Tables in the terminal (rich): the same width rules for every command."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.table import Table


def console(stream=None) -> Console:
    stream = stream or sys.stdout
    # Piped (CI logs, tests): wide enough that no figure is cut, as the plain text it replaces.
    return Console(file=stream, highlight=False, markup=False, width=None if stream.isatty() else 200)


def table(*columns: str, title: str | None = None) -> Table:
    """Columns named 'name>' are right-aligned (figures), the others left."""
    t = Table(title=title, title_justify="left", box=None, header_style="bold", pad_edge=False)
    for c in columns:
        t.add_column(c.rstrip(">"), justify="right" if c.endswith(">") else "left", no_wrap=True)
    return t
