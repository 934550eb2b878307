"""Stage timings: seconds per stage, and a listener told as each stage starts (the tutor page names the stage)."""

from engine.core.timing import StageTimings, timed


def test_timed_adds_up_the_seconds_of_a_stage_entered_twice():
    timings: dict[str, float] = {}
    with timed(timings, "generate"):
        pass
    first = timings["generate"]
    with timed(timings, "generate"):
        sum(range(10000))
    assert set(timings) == {"generate"} and timings["generate"] > first


def test_the_listener_hears_each_stage_as_it_starts_in_order():
    heard: list[str] = []
    timings = StageTimings(heard.append)
    with timed(timings, "retrieve"):
        assert heard == ["retrieve"] and "retrieve" not in timings  # told before the work, timed after
    with timed(timings, "verify"):
        pass
    assert heard == ["retrieve", "verify"] and list(timings) == ["retrieve", "verify"]


def test_a_stage_that_fails_is_still_timed():
    timings = StageTimings()
    try:
        with timed(timings, "verify"):
            raise ValueError("the verifier broke")
    except ValueError:
        pass
    assert "verify" in timings
