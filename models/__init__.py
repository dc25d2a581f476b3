"""kehu's models package, imported as ``kehu.models`` (pyproject.toml maps models/ there).

Imported as a top-level ``models`` (from the repository root) it would be a second copy
with its own state — its own language, caches and catalogues — so that is refused.
"""
if __name__ != "kehu.models":
    raise ImportError(f"import kehu.models, not {__name__}: this folder is installed as kehu.models "
                      "(pip install -e .)")
