"""Human in the loop in Airflow 3.1+: an approval with a reason, then a choice of where to publish.

`ApprovalOperator` and `HITLBranchOperator` (apache-airflow-providers-standard) park their task until somebody
answers in the UI's Required Actions page or through the REST API (`PATCH .../hitlDetails`). On Airflow 3.3+ the
task waits in the `awaiting_input` state, with no trigger and no triggerer.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from airflow.providers.standard.operators.hitl import ApprovalOperator, HITLBranchOperator
from airflow.sdk import DAG, Param, task

# A wait with no deadline is a run that can stay open for ever: give the human an hour.
RESPONSE_TIMEOUT = timedelta(hours=1)

with DAG(
    dag_id="human_in_the_loop",
    schedule=None,
    params={
        "release": Param("2026.11", type="string"),
        "release_dir": Param(".", type="string", description="Where the draft and the posts are written."),
    },
    tags=["cookbook"],
) as dag:

    @task
    def prepare(params: dict[str, Any] | None = None) -> dict[str, Any]:
        assert params is not None
        notes = f"Release {params['release']}: 3 fixes, 1 feature."
        (Path(params["release_dir"]) / "draft.md").write_text(notes + "\n", encoding="utf-8")
        return {"release": params["release"], "notes": notes}

    # [START hitl_approval]
    # "Approve" lets the run go on; "Reject" succeeds too, and skips what follows (fail_on_reject would fail it).
    # The form asks for a reason as well: a task-level Param, returned in params_input.
    approve_publish = ApprovalOperator(
        task_id="approve_publish",
        subject="Publish release {{ params.release }}?",
        body="{{ ti.xcom_pull(task_ids='prepare')['notes'] }}",
        params={"reason": Param("", type="string", description="Why, for the audit trail")},
        response_timeout=RESPONSE_TIMEOUT,
    )
    # [END hitl_approval]

    # [START hitl_branch]
    # A choice among options that name the tasks to run; the branch not chosen is skipped.
    choose_channel = HITLBranchOperator(
        task_id="choose_channel",
        subject="Where should release {{ params.release }} go?",
        options=["Blog", "Newsletter"],
        options_mapping={"Blog": "publish_blog", "Newsletter": "publish_newsletter"},
        response_timeout=RESPONSE_TIMEOUT,
    )
    # [END hitl_branch]

    # [START hitl_publish]
    def publish(channel: str, draft: dict[str, Any], approval: dict[str, Any], release_dir: str) -> dict[str, Any]:
        """Write the post with the reason it was approved: what an auditor asks for first."""
        record = {
            "channel": channel,
            "release": draft["release"],
            "notes": draft["notes"],
            "reason": approval["params_input"]["reason"],
        }
        folder = Path(release_dir) / "published"
        folder.mkdir(exist_ok=True)
        (folder / f"{channel}.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        return record

    @task
    def publish_blog(
        draft: dict[str, Any], approval: dict[str, Any], params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        assert params is not None
        return publish("blog", draft, approval, params["release_dir"])

    @task
    def publish_newsletter(
        draft: dict[str, Any], approval: dict[str, Any], params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        assert params is not None
        return publish("newsletter", draft, approval, params["release_dir"])

    draft = prepare()
    draft >> approve_publish >> choose_channel
    choose_channel >> [publish_blog(draft, approve_publish.output), publish_newsletter(draft, approve_publish.output)]
    # [END hitl_publish]
