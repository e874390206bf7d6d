"""The http_runbook adapter and run_containment_action against a real HTTP automation endpoint: signature,
Idempotency-Key, polling with heartbeats, cancellation mid-poll, and a repeated key that does not act twice.
Activities run in Temporal's ActivityEnvironment (the real activity runtime: heartbeats and cancellation)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from temporalio.testing import ActivityEnvironment

from activities.contain import ContainmentActivities
from adapters.contain.http_runbook import HttpRunbookAdapter
from adapters.contain.journal import ActionJournal
from adapters.notify.base import NoSecrets
from config.secrets import SecretSource
from tests.contain.automation_endpoint import SECRET, Endpoint, automation_endpoint
from tests.contain.conftest import context, request, until
from workflows.messages.containment import ContainmentOutcome


def runbook(endpoint: Endpoint, *, cancel: bool = True, secret: str = SECRET) -> HttpRunbookAdapter:
    return HttpRunbookAdapter(
        "rollback",
        url=f"{endpoint.url}/hooks/{{operation}}",
        secret=secret,
        secrets=NoSecrets(),
        cancel_url=f"{endpoint.url}/jobs/{{id}}/cancel" if cancel else None,
        poll_seconds=0.05,
    )


def activities(tmp_path: Path, adapter: HttpRunbookAdapter) -> ContainmentActivities:
    return ContainmentActivities({"rollback": adapter}, ActionJournal(tmp_path / "containment"))


def recording_env() -> tuple[ActivityEnvironment, list[Any]]:
    env = ActivityEnvironment()
    beats: list[Any] = []
    env.on_heartbeat = lambda *details: beats.append(details)
    return env, beats


async def test_posts_signed_with_the_key_then_polls_until_done(tmp_path: Path) -> None:
    with automation_endpoint(polls_to_finish=3) as endpoint:
        env, beats = recording_env()
        step = request("rollback", "deploy_rollback", key="occ-7/a3", version="v41")
        result = await env.run(activities(tmp_path, runbook(endpoint)).run_containment_action, step)
    assert result.outcome is ContainmentOutcome.SUCCEEDED
    assert result.observed == {"job": "job1", "status": "succeeded", "rolled_back_to": "v41"}
    assert endpoint.bad_signatures == 0
    assert [post["key"] for post in endpoint.posts] == ["occ-7/a3"]
    assert endpoint.posts[0]["document"]["params"] == {"version": "v41"}
    assert endpoint.polls == 3
    assert any("running" in str(beat) for beat in beats)


async def test_a_wrong_secret_is_refused_by_the_endpoint_and_fails_the_action(tmp_path: Path) -> None:
    with automation_endpoint() as endpoint:
        env, _ = recording_env()
        result = await env.run(
            activities(tmp_path, runbook(endpoint, secret="wrong")).run_containment_action,
            request("rollback", "deploy_rollback"),
        )
    assert result.outcome is ContainmentOutcome.FAILED
    assert "401" in result.detail
    assert endpoint.bad_signatures == 1 and not endpoint.jobs


async def test_the_secret_comes_from_the_workers_environment_and_never_shows(tmp_path: Path) -> None:
    with automation_endpoint() as endpoint:
        adapter = HttpRunbookAdapter(
            "rollback", url=f"{endpoint.url}/hooks/x", secret="${RUNBOOK_KEY}",
            secrets=SecretSource(environ={"RUNBOOK_KEY": SECRET}), poll_seconds=0.05,
        )  # fmt: skip
        env, _ = recording_env()
        step = request("rollback", "x")
        result = await env.run(activities(tmp_path, adapter).run_containment_action, step)
    assert result.outcome is ContainmentOutcome.SUCCEEDED
    assert SECRET not in step.model_dump_json() + result.model_dump_json()


async def test_a_repeated_key_does_not_act_twice(tmp_path: Path) -> None:
    with automation_endpoint() as endpoint:
        env, _ = recording_env()
        steps = activities(tmp_path, runbook(endpoint))
        first = await env.run(
            steps.run_containment_action, request("rollback", "deploy_rollback", key="occ-1/a1")
        )
        # A new worker process (same data dir) after a crash: the journal answers, the endpoint sees nothing.
        again = await env.run(
            activities(tmp_path, runbook(endpoint)).run_containment_action,
            request("rollback", "deploy_rollback", key="occ-1/a1"),
        )
    assert first.outcome is again.outcome is ContainmentOutcome.SUCCEEDED
    assert again.detail.startswith("already done under this key")
    assert len(endpoint.posts) == 1 and len(endpoint.jobs) == 1


async def test_the_endpoint_dedupes_a_key_posted_again_after_a_crash_mid_job(tmp_path: Path) -> None:
    """The journal only knows completed keys; a crash mid-poll re-posts, and the key makes it the same job.
    The crash is the adapter's task stopping dead (no undo runs, as with kill -9)."""
    with automation_endpoint(polls_to_finish=1000) as endpoint:
        first = asyncio.create_task(runbook(endpoint).act(request("rollback", "r"), context()))
        await until(lambda: endpoint.polls >= 2)
        first.cancel()
        endpoint.polls_to_finish = 0
        env, _ = recording_env()
        result = await env.run(
            activities(tmp_path, runbook(endpoint)).run_containment_action, request("rollback", "r")
        )
    assert result.outcome is ContainmentOutcome.SUCCEEDED
    assert len(endpoint.posts) == 2 and len(endpoint.jobs) == 1 and not endpoint.cancels


async def test_cancellation_mid_poll_calls_the_cancel_url_and_reports(tmp_path: Path) -> None:
    with automation_endpoint(polls_to_finish=1000) as endpoint:
        env, _ = recording_env()
        run = asyncio.create_task(
            env.run(activities(tmp_path, runbook(endpoint)).run_containment_action, request("rollback", "r"))
        )
        await until(lambda: endpoint.polls >= 2)
        env.cancel()
        result = await run
    assert result.outcome is ContainmentOutcome.UNDONE
    assert endpoint.cancels == ["job1"]
    assert "job1 cancelled (stopped after step 1 of 3, step 1 reverted)" in result.detail
    assert endpoint.jobs["occ-1/a1"]["status"] == "cancelled"


async def test_cancellation_without_a_cancel_url_reports_the_job_left_running(tmp_path: Path) -> None:
    with automation_endpoint(polls_to_finish=1000) as endpoint:
        env, _ = recording_env()
        run = asyncio.create_task(
            env.run(
                activities(tmp_path, runbook(endpoint, cancel=False)).run_containment_action,
                request("rollback", "r"),
            )
        )
        await until(lambda: endpoint.polls >= 1)
        env.cancel()
        result = await run
    assert result.outcome is ContainmentOutcome.PARTIAL
    assert "left done: rollback job job1 started (no undo)" in result.detail
    assert endpoint.cancels == []
