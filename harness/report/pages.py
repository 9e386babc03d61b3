"""The one Jinja2 environment every HTML page of the harness is rendered with.

Templates live in templates/ next to this module (shipped as package data);
autoescape does the HTML escaping, so no page builds markup in Python.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).resolve().parent / "templates"

# StrictUndefined: a missing key fails loudly, as the dict lookups it replaces did, instead of rendering blank.
_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]),
                   undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def render(template: str, **context) -> str:
    return _env.get_template(template).render(**context)
