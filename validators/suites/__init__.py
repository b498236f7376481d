"""Great Expectations data-quality suites (compiled from the specs; GX itself is imported lazily).

- `quality.py`   the data-quality checks as data (`specs/<return>/quality.yaml`), pydantic models
- `gx_suite.py`  compiles, per return and year, engine-neutral expectation plans: the catalogue
                 rules whose kind has a faithful GX equivalent, and the data-quality checks;
                 `csc-returns rules --gx` lists them. No GX import.
- `gx_run.py`    runs the plans with GX (ephemeral context, no network, no files outside the
                 output folder), turns results into findings and outcomes, builds Data Docs.

Importing this package never imports great_expectations: the CLI must start fast.
"""
