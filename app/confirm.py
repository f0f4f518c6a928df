"""The two small state machines that keep the monitor from crying wolf.

`Confirmation` turns raw per-check states into confirmed ones: a site leaves a good state
only after `failures_to_alert` consecutive bad checks and comes back after
`successes_to_recover` consecutive good ones. `FlapDetector` measures how often the
confirmed state changed over the last 21 checks, weighting recent changes more (the
Nagios/Icinga method), and switches flapping on above a high threshold and off below a
lower one, so a site hovering at the threshold does not toggle the flag itself.

Pure and clock-free: the monitor feeds them one observation per check.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from app.models import SiteState

FLAP_WINDOW = 21  # checks kept, as in Nagios and Icinga (20 possible changes)
FLAP_LOW_FACTOR = 2 / 3  # Nagios' defaults are 20 % low / 30 % high: the same ratio


@dataclass(frozen=True)
class Step:
    """What one observation did to a site's confirmation."""

    confirmed: SiteState | None  # the confirmed state after this observation
    changed: bool  # the confirmed state changed with this observation
    pending: bool  # an unconfirmed different state is being watched
    suspected: SiteState | None  # that state, while pending


@dataclass
class Confirmation:
    failures_to_alert: int = 2
    successes_to_recover: int = 2
    confirmed: SiteState | None = None
    candidate: SiteState | None = None
    streak: int = 0

    def observe(self, state: SiteState, *, may_confirm: bool = True) -> Step:
        """Feed one check's state. `may_confirm=False` (an observation that cannot be
        trusted yet, e.g. the network is in doubt) can start or keep a pending problem
        but never confirms it."""
        if self.confirmed is None and state.is_good and may_confirm:
            # Nothing to confirm on the first look at a healthy site: no alarm is at stake.
            self.confirmed, self.candidate, self.streak = state, None, 0
            return Step(state, True, False, None)
        if state == self.confirmed:
            self.candidate, self.streak = None, 0
            return Step(self.confirmed, False, False, None)
        same_direction = self.candidate is not None and self.candidate.is_good == state.is_good
        self.streak = self.streak + 1 if same_direction else 1
        self.candidate = state
        needed = self.successes_to_recover if state.is_good else self.failures_to_alert
        if not may_confirm:
            self.streak = min(self.streak, needed - 1)
            if self.streak == 0:
                self.candidate = None
                return Step(self.confirmed, False, False, None)
        if self.streak >= needed:
            self.confirmed, self.candidate, self.streak = state, None, 0
            return Step(state, True, False, None)
        return Step(self.confirmed, False, True, state)

    def forget_pending(self) -> None:
        """Drop an unconfirmed problem (after a sleep or a network outage: start afresh)."""
        self.candidate, self.streak = None, 0

    @property
    def pending(self) -> bool:
        return self.candidate is not None


def weighted_change(history: deque[SiteState] | list[SiteState]) -> float:
    """Share of state changes among the last checks, 0..1, recent ones weighing more.

    Weights rise linearly from 0.8 (oldest possible change) to 1.2 (newest) over the
    20 change slots of a 21-check window. The sum is divided by the full window, so a
    short history (a site just added) cannot reach a high share from a few changes.
    """
    states = list(history)[-FLAP_WINDOW:]
    slots = FLAP_WINDOW - 1
    offset = slots - (len(states) - 1)  # a short history fills the newest slots
    total = 0.0
    for i in range(1, len(states)):
        if states[i] != states[i - 1]:
            slot = offset + i - 1  # 0 = oldest, slots - 1 = newest
            total += 0.8 + 0.4 * slot / (slots - 1)
    return total / slots


@dataclass
class FlapDetector:
    high: float = 0.3
    history: deque[SiteState] = field(default_factory=lambda: deque(maxlen=FLAP_WINDOW))
    flapping: bool = False
    share: float = 0.0

    @property
    def low(self) -> float:
        return self.high * FLAP_LOW_FACTOR

    def observe(self, state: SiteState) -> bool | None:
        """Feed the confirmed state after a check. Returns True when flapping starts,
        False when it stops, None when nothing changed."""
        self.history.append(state)
        self.share = weighted_change(self.history)
        if not self.flapping and self.share > self.high:
            self.flapping = True
            return True
        if self.flapping and self.share < self.low:
            self.flapping = False
            return False
        return None
