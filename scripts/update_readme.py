"""Rewrite the README's table of functions from the registry (what `mcalc ops --markdown` prints).
Run after adding or changing an operation:  python scripts/update_readme.py"""

from pathlib import Path

from mcalc.explain import function_table

BEGIN, END = "<!-- generated: mcalc ops --markdown -->\n", "<!-- end of generated table -->"

readme = Path(__file__).resolve().parent.parent / "README.md"
text = readme.read_text()
start, stop = text.index(BEGIN) + len(BEGIN), text.index(END)
readme.write_text(text[:start] + function_table() + text[stop:])
