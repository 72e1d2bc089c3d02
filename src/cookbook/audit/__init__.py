"""`cookbook audit`: a migration inventory of a folder of Airflow DAGs, matched against the recipes.

- `walk.py` finds the Python files (symlink loops, huge, binary and broken files become notes) and reads each one;
- `scan/` lists the Airflow constructs of a file, per DAG, with `ast` only (`findings.py` holds the typed results);
  one module per concern, listed in `scan/__init__.py`;
- `vocabulary.py` is what the audit knows about Airflow: argument names, template context, value normalisation;
- `catalog.py` matches constructs against the recipes' `concepts`, read at run time (the only construct -> recipe map);
- `report.py` totals uses, coverage and effort per construct and per DAG; `render.py` prints or writes them.
"""
