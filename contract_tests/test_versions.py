"""Two API versions side by side (--compare-version): the documented request answered with the
run's Version and with the compared one, and every pointer where the two answers differ in shape."""

from __future__ import annotations

import pytest

from ghl_contract.suite import Probe


@pytest.mark.ghl_needs("compare_version")
@pytest.mark.ghl_requests(requests=1, writes=1)
def test_compared_version_answers_in_the_same_shape(ghl: Probe) -> None:
    ghl.compare_versions()
