"""The public contract of warroom's workflows, one module per audience:

- `common`: the base contract, severities, phases, roles, ids (everyone);
- `alerts`: the normalized alert and the incident input (the intake);
- `commands`: what humans send (CLI, Web UI, API) and the verdict they get back;
- `status`: what readers see (status query, timeline, result);
- `notifications`: the notify activity's contract with the adapters;
- `activities`: the other activities' inputs and results;
- `correlation`: the intake's correlation router;
- `containment`: the containment and health-observation activities' contract with the adapters;
- `approval_buttons`: the Approve / Reject buttons of Slack approval messages (adapter and intake).

Field names here are a public API: humans type them into the Temporal Web UI and the CLI sends them, so
renaming one is a breaking change. Models that humans type forbid unknown fields, so a typo ("ackd_by")
is rejected with a reason instead of silently ignored.

Nothing here may default to the clock or to random values: workflow code passes `workflow.now()` and
`workflow.uuid4()` explicitly (a `default_factory=datetime.now` wedges or breaks determinism).
"""
