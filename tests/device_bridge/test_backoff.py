from random import Random

import pytest

from device_bridge.backoff import Backoff, BackoffPolicy, jittered


def test_delays_grow_to_the_maximum_and_reset() -> None:
    backoff = Backoff(BackoffPolicy(initial=0.1, maximum=1.0, factor=3.0))
    assert [backoff.next_delay() for _ in range(5)] == pytest.approx([0.1, 0.3, 0.9, 1.0, 1.0])
    backoff.reset()
    assert backoff.next_delay() == pytest.approx(0.1)


@pytest.mark.parametrize(
    ("initial", "maximum", "factor"), [(0.0, 1.0, 2.0), (2.0, 1.0, 2.0), (0.1, 1.0, 0.5)]
)
def test_unusable_policies_are_refused(initial: float, maximum: float, factor: float) -> None:
    with pytest.raises(ValueError, match="unusable"):
        BackoffPolicy(initial=initial, maximum=maximum, factor=factor)


def test_jitter_shortens_a_delay_by_at_most_half() -> None:
    rng = Random(7)
    delays = [jittered(8.0, rng) for _ in range(200)]
    assert all(4.0 <= delay <= 8.0 for delay in delays)
    assert len({round(delay, 3) for delay in delays}) > 100  # bridges do not retry in step
