"""Put on PYTHONPATH for the processes a served deployment starts: records their task submissions (see
cookbook.workers.submissions). Any other process that finds it does nothing: the journal is not named there, or
(another interpreter, a tool a task runs) Prefect and the cookbook are not importable."""

import os

if os.environ.get("COOKBOOK_SUBMISSIONS_JOURNAL"):
    try:
        from cookbook.workers.submissions import install_from_environment

        install_from_environment()
    except ImportError:
        pass
