"""The SEV-1..SEV-4 matrix as a pure function: impact in, severity with every matching reason out."""

from __future__ import annotations

from collections.abc import Iterable

from workflows.messages.alerts import Impact
from workflows.messages.common import Severity
from workflows.messages.status import Classification, ClassificationReason
from workflows.policy import SeverityMatrix

_SCOPE_SEVERITY = {
    "all": Severity.SEV1,
    "major_segment": Severity.SEV2,
    "minor_segment": Severity.SEV3,
    "individual": Severity.SEV4,
}


def _threshold_severity(value: float, thresholds: dict[Severity, float]) -> Severity:
    for severity in (Severity.SEV1, Severity.SEV2, Severity.SEV3):
        if severity in thresholds and value >= thresholds[severity]:
            return severity
    return Severity.SEV4


def _flag_reasons(impact: Impact) -> Iterable[ClassificationReason]:
    flags = {
        "security_breach": "security breach with customer data exposure",
        "data_corruption": "data corruption affecting customer transactions",
        "regulatory": "regulatory violation",
    }
    for field, explanation in flags.items():
        if getattr(impact, field):
            yield ClassificationReason(dimension=field, severity=Severity.SEV1, explanation=explanation)


def _user_reasons(impact: Impact, matrix: SeverityMatrix) -> Iterable[ClassificationReason]:
    if impact.user_scope is not None:
        severity = _SCOPE_SEVERITY[impact.user_scope]
        yield ClassificationReason(
            dimension="user_scope", severity=severity, explanation=f"{impact.user_scope} of users affected"
        )
    if impact.users_affected is not None:
        severity = _threshold_severity(impact.users_affected, matrix.users_affected)
        yield ClassificationReason(
            dimension="users_affected",
            severity=severity,
            explanation=f"{impact.users_affected:,} users affected",
        )


def _revenue_reasons(impact: Impact, matrix: SeverityMatrix) -> Iterable[ClassificationReason]:
    if impact.revenue_per_hour is not None:
        severity = _threshold_severity(impact.revenue_per_hour, matrix.revenue_per_hour)
        yield ClassificationReason(
            dimension="revenue_per_hour",
            severity=severity,
            explanation=f"${impact.revenue_per_hour:,.0f}/h revenue at risk",
        )


def _region_reasons(impact: Impact, matrix: SeverityMatrix) -> Iterable[ClassificationReason]:
    regions = len(impact.regions)
    if regions == 0:
        return
    if regions >= matrix.regions_for_global or "global" in impact.regions:
        severity, scope = Severity.SEV1, "global"
    elif regions > 1:
        severity, scope = Severity.SEV2, "multi-region"
    else:
        severity, scope = Severity.SEV3, "single region"
    names = ", ".join(impact.regions)
    yield ClassificationReason(dimension="regions", severity=severity, explanation=f"{scope} ({names})")


def _function_reasons(impact: Impact) -> Iterable[ClassificationReason]:
    if impact.function == "core":
        yield ClassificationReason(
            dimension="function", severity=Severity.SEV2, explanation="core function affected"
        )
    elif impact.function == "secondary":
        yield ClassificationReason(
            dimension="function", severity=Severity.SEV4, explanation="secondary function affected"
        )


def _hint_reasons(hints: Iterable[str], matrix: SeverityMatrix) -> Iterable[ClassificationReason]:
    for hint in sorted({h.strip().lower() for h in hints if h and h.strip()}):
        if hint in matrix.severity_hints:
            yield ClassificationReason(
                dimension="alert_severity",
                severity=matrix.severity_hints[hint],
                explanation=f"alert says severity '{hint}'",
            )
        elif hint in {s.value.lower() for s in Severity}:
            yield ClassificationReason(
                dimension="alert_severity",
                severity=Severity(hint.upper()),
                explanation=f"alert says {hint.upper()}",
            )


def classify(impact: Impact, matrix: SeverityMatrix, severity_hints: Iterable[str] = ()) -> Classification:
    """Severity is the most severe matching dimension; every matching dimension is kept as a reason."""
    reasons = [
        *_flag_reasons(impact),
        *_user_reasons(impact, matrix),
        *_revenue_reasons(impact, matrix),
        *_region_reasons(impact, matrix),
        *_function_reasons(impact),
        *_hint_reasons(severity_hints, matrix),
    ]
    if not reasons:
        reasons = [
            ClassificationReason(
                dimension="default",
                severity=matrix.default_severity,
                explanation="no impact information yet; the policy's default severity",
            )
        ]
    severity = Severity.most_severe([reason.severity for reason in reasons])
    return Classification(severity=severity, reasons=reasons, decided_by="matrix")
