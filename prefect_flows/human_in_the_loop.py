"""Human in the loop in Prefect: the flow run pauses until somebody answers a typed form (a RunInput).

`pause_flow_run(wait_for_input=...)` sets the flow run Paused and publishes the input's schema; the UI renders it as
a form, and "Resume" (or `resume_flow_run(flow_run_id, run_input=...)` from any client) validates the answer and
sets the run Running again. The paused run keeps its process: use `suspend_flow_run` (a deployment is needed) for
waits long enough that the infrastructure should go.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, pause_flow_run, task
from prefect.input import RunInput

# An unanswered pause fails the run after this long; Airflow's response_timeout of the same hour.
RESPONSE_TIMEOUT = 3600
# Each check is one API call; a person takes seconds at least, so checking every few seconds is plenty.
POLL_SECONDS = 1


# [START hitl_approval]
class Approval(RunInput):
    """The form: the UI shows a checkbox and a text field, and refuses an answer that does not validate."""

    approve: bool
    reason: str = ""


@task
def approve_publish(release: str, notes: str) -> Approval:
    # Called in a task, pause_flow_run pauses the flow run the task belongs to; the task stays Running meanwhile.
    approval = pause_flow_run(
        wait_for_input=Approval.with_initial_data(
            description=f"**Publish release {release}?**\n\n{notes}", approve=False
        ),
        timeout=RESPONSE_TIMEOUT,
        poll_interval=POLL_SECONDS,
    )
    return approval


# [END hitl_approval]


# [START hitl_branch]
class Channel(StrEnum):
    BLOG = "Blog"
    NEWSLETTER = "Newsletter"


class ChannelChoice(RunInput):
    channel: Channel  # an Enum becomes a drop-down in the form


@task
def choose_channel(release: str) -> Channel:
    choice = pause_flow_run(
        wait_for_input=ChannelChoice.with_initial_data(description=f"**Where should release {release} go?**"),
        timeout=RESPONSE_TIMEOUT,
        poll_interval=POLL_SECONDS,
    )
    return choice.channel


# [END hitl_branch]


@task
def prepare(release: str, release_dir: str) -> dict[str, Any]:
    notes = f"Release {release}: 3 fixes, 1 feature."
    draft = Path(release_dir) / "draft.md"
    draft.write_text(notes + "\n", encoding="utf-8")
    get_run_logger().info("draft of release %s written to %s", release, draft)
    return {"release": release, "notes": notes}


# [START hitl_publish]
def publish(channel: str, draft: dict[str, Any], approval: Approval, release_dir: str) -> dict[str, Any]:
    """Write the post with the reason it was approved: what an auditor asks for first."""
    record = {"channel": channel, "release": draft["release"], "notes": draft["notes"], "reason": approval.reason}
    folder = Path(release_dir) / "published"
    folder.mkdir(exist_ok=True)
    (folder / f"{channel}.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return record


@task
def publish_blog(draft: dict[str, Any], approval: Approval, release_dir: str) -> dict[str, Any]:
    return publish("blog", draft, approval, release_dir)


@task
def publish_newsletter(draft: dict[str, Any], approval: Approval, release_dir: str) -> dict[str, Any]:
    return publish("newsletter", draft, approval, release_dir)


@flow(name="human-in-the-loop")
def human_in_the_loop(release: str = "2026.11", release_dir: str = ".") -> dict[str, Any] | None:
    """Draft the release notes, ask for approval and a channel, and publish where the answer says."""
    draft = prepare(release, release_dir)
    approval = approve_publish(release, draft["notes"])
    if not approval.approve:
        # A rejection is an answer, not an error: the run completes and nothing is published.
        return None
    channel = choose_channel(release)
    if channel is Channel.BLOG:
        return publish_blog(draft, approval, release_dir)
    return publish_newsletter(draft, approval, release_dir)


# [END hitl_publish]


if __name__ == "__main__":
    human_in_the_loop.serve(name="release")
