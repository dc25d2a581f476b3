"""kehu's tui package, imported as ``kehu.tui`` (pyproject.toml maps tui/ there).

Imported as a top-level ``tui`` (from the repository root) it would be a second copy
with its own state — its own language, caches and catalogues — so that is refused.
"""
if __name__ != "kehu.tui":
    raise ImportError(f"import kehu.tui, not {__name__}: this folder is installed as kehu.tui "
                      "(pip install -e .)")
