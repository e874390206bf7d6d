"""The SEV matrix as a pure function: table cases and properties."""

from __future__ import annotations

from hypothesis import assume, given
from hypothesis import strategies as st

from workflows.messages.alerts import Impact
from workflows.messages.common import Severity
from workflows.policy import SeverityMatrix
from workflows.severity import classify

MATRIX = SeverityMatrix()


def severity_of(**impact: object) -> Severity:
    return classify(Impact.model_validate(impact), MATRIX).severity


def test_each_dimension_maps_to_its_default_severity() -> None:
    assert severity_of(user_scope="all") is Severity.SEV1
    assert severity_of(user_scope="major_segment") is Severity.SEV2
    assert severity_of(user_scope="minor_segment") is Severity.SEV3
    assert severity_of(user_scope="individual") is Severity.SEV4
    assert severity_of(revenue_per_hour=1_000_001) is Severity.SEV1
    assert severity_of(revenue_per_hour=250_000) is Severity.SEV2
    assert severity_of(revenue_per_hour=10_000) is Severity.SEV3
    assert severity_of(revenue_per_hour=9_999) is Severity.SEV4
    assert severity_of(regions=["eu", "us", "ap"]) is Severity.SEV1
    assert severity_of(regions=["eu", "us"]) is Severity.SEV2
    assert severity_of(regions=["eu"]) is Severity.SEV3
    assert severity_of(function="core") is Severity.SEV2
    assert severity_of(function="secondary") is Severity.SEV4


def test_security_data_and_regulatory_flags_are_sev1_regardless_of_the_rest() -> None:
    for flag in ("security_breach", "data_corruption", "regulatory"):
        result = classify(Impact.model_validate({flag: True, "user_scope": "individual"}), MATRIX)
        assert result.severity is Severity.SEV1
        assert {reason.dimension for reason in result.reasons} == {flag, "user_scope"}


def test_every_matching_dimension_is_a_reason_and_the_worst_wins() -> None:
    result = classify(Impact(revenue_per_hour=50_000, regions=["eu", "us"], function="secondary"), MATRIX)
    assert result.severity is Severity.SEV2
    assert [reason.dimension for reason in result.reasons] == ["revenue_per_hour", "regions", "function"]
    assert result.reasons[0].explanation == "$50,000/h revenue at risk"


def test_alert_severity_words_are_hints_and_no_information_falls_back_to_the_default() -> None:
    assert classify(Impact(), MATRIX, ["CRITICAL"]).severity is Severity.SEV2
    assert classify(Impact(), MATRIX, ["sev-1"]).severity is Severity.SEV1
    fallback = classify(Impact(), MATRIX, ["unheard-of"])
    assert fallback.severity is MATRIX.default_severity
    assert fallback.reasons[0].dimension == "default"


impacts = st.builds(
    Impact,
    users_affected=st.none() | st.integers(min_value=0, max_value=10**8),
    user_scope=st.none() | st.sampled_from(["all", "major_segment", "minor_segment", "individual"]),
    revenue_per_hour=st.none() | st.floats(min_value=0, max_value=1e9, allow_nan=False),
    regions=st.lists(st.sampled_from(["eu", "us", "ap", "sa"]), unique=True, max_size=4),
    function=st.none() | st.sampled_from(["core", "secondary"]),
    security_breach=st.booleans(),
    data_corruption=st.booleans(),
    regulatory=st.booleans(),
)


@given(impacts, impacts)
def test_more_impact_never_lowers_severity(base: Impact, extra: Impact) -> None:
    """Over impacts that carry information. The default severity stands in for *no* information; the workflow
    never lets a later, smaller-looking matrix result lower a severity it already has."""
    before_result = classify(base, MATRIX)
    assume(before_result.reasons[0].dimension != "default")
    before = before_result.severity
    after = classify(base.widened_by(extra), MATRIX).severity
    assert after.rank <= before.rank


@given(impacts, st.lists(st.text(max_size=12), max_size=3))
def test_every_result_has_at_least_one_reason_that_carries_its_severity(
    impact: Impact, hints: list[str]
) -> None:
    result = classify(impact, MATRIX, hints)
    assert result.reasons
    assert result.severity in {reason.severity for reason in result.reasons}
