"""The writer's CPU budget: a burst at once, then a share of the time on average."""

from __future__ import annotations

from graphdeck.store._budget import TimeBudget


class Clock:
    """Time that passes only when slept through or spent."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds > 0
        self.now += seconds


def _read_for(budget: TimeBudget, clock: Clock, seconds: float, chunk: float) -> float:
    """Read in chunks of `chunk` CPU seconds for `seconds` of wall time; the CPU spent."""
    spent, until = 0.0, clock.now + seconds
    while budget.wait(until=until):
        clock.now += chunk
        budget.spend(chunk)
        spent += chunk
    return spent


def test_a_burst_is_spent_at_once_then_the_share_holds() -> None:
    clock = Clock()
    budget = TimeBudget(share=0.05, burst=0.02, clock=clock, sleep=clock.sleep)
    began = clock.now
    assert budget.wait(until=began + 1)  # credit from the start: no sleep
    assert clock.now == began
    first = _read_for(budget, clock, 0.02, chunk=0.001)
    assert first >= 0.019  # the burst, in one go (its 20 ms are all reading)
    later = _read_for(budget, clock, 10.0, chunk=0.001)
    assert 0.45 <= later <= 0.55  # then 5 % of ten seconds


def test_credit_builds_up_while_idle_but_never_past_the_burst() -> None:
    clock = Clock()
    budget = TimeBudget(share=0.05, burst=0.02, clock=clock, sleep=clock.sleep)
    _read_for(budget, clock, 1.0, chunk=0.001)  # all credit used
    clock.now += 3600  # an hour idle
    # The burst, what accrues meanwhile, and the one chunk a last bit of credit allows.
    assert _read_for(budget, clock, 0.02, chunk=0.001) <= 0.02 + 0.05 * 0.02 + 0.001 + 1e-9
