"""The domain's words: which states are good, which platform states are trouble, labels."""

from __future__ import annotations

import pytest

from app.models import (
    GOOD_SITE_STATES,
    SITE_SEVERITY,
    OverallState,
    PlatformState,
    SiteState,
)


def test_good_states_are_the_ones_without_severity() -> None:
    # Severity 0 (sorting, the overall state) and "good" (confirmation, history
    # evidence, tickets) must agree, or a site could alarm while sorting as fine.
    assert {s for s in SiteState if s.is_good} == {s for s in SiteState if SITE_SEVERITY[s] == 0}
    assert {s for s in SiteState if s.is_good} == {SiteState.OPERATIONAL, SiteState.ASLEEP}


def test_good_states_match_their_stored_strings() -> None:
    # History rows hold plain strings; the set must still recognise them.
    assert "operational" in GOOD_SITE_STATES
    assert "asleep" in GOOD_SITE_STATES
    assert "down" not in GOOD_SITE_STATES


def test_platform_trouble_excludes_announced_maintenance() -> None:
    trouble = {p for p in PlatformState if p.is_trouble}
    assert trouble == {PlatformState.DEGRADED, PlatformState.OUTAGE}


@pytest.mark.parametrize("enum", [SiteState, OverallState, PlatformState])
def test_every_state_has_a_capitalised_label(enum: type[SiteState]) -> None:
    for state in enum:
        label = state.label
        assert label and label[0].isupper() and label[1:] == label[1:].lower()
        # The label reads as the state's own name, without the underscore.
        assert label.lower() == state.value.replace("_", " ")
