"""`cookbook audit`: a migration inventory of a folder of Airflow DAGs, matched against the recipes.

- `walk.py` finds the Python files (symlink loops, huge, binary and broken files become notes) and reads each one,
  with the folder's own modules at hand for names a DAG imports from them (a shared `default_args`);
- `newer.py` parses a file that needs a newer Python than the audit's with the newest one on the machine;
- `scan/` lists the Airflow constructs of a file, per DAG, with `ast` only (`findings.py` holds the typed results);
  one module per concern, listed in `scan/__init__.py`;
- `vocabulary.py` is what the audit knows about Airflow: argument names, template context, value normalisation,
  Airflow 2 idioms' Airflow 3 equivalents, and the graded answers where no recipe has one (`nothing`, `generic`);
- `catalog.py` matches constructs against the recipes' `concepts`, read at run time (the only construct -> recipe map);
- `report.py` totals uses, coverage and effort per construct and per DAG; `render.py` prints or writes them.
"""
