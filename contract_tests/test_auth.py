"""Authentication, authorization and headers: 401 without a valid token, 403 for another location's
data (when the run knows one), a 4xx for a missing or unsupported Version header.

Every request to an operation that writes counts as a write, whatever its token (a server that
ignored the token would create an invoice), so the conversion's 401 tests need --allow-writes in a
live run; the listing's 401 tests are reads, sent by any run."""

from __future__ import annotations

import pytest

from ghl_contract.suite import CLIENT_ERROR, FORBIDDEN, UNAUTHORIZED, Probe

# Header overrides; None removes the header. None of them carries the run's token.
UNAUTHENTICATED = [
    pytest.param({"Authorization": None}, id="no-token"),
    pytest.param({"Authorization": "Bearer"}, id="malformed-token-bearer-without-token"),
    pytest.param({"Authorization": "Basic Z2hsLWNvbnRyYWN0OnBhc3N3b3Jk"},
                 id="malformed-token-basic"),
    pytest.param({"Authorization": "Bearer not a token"}, id="malformed-token-with-spaces"),
    pytest.param({"Authorization": "Bearer ghl-contract-invalid-token-0000"}, id="invalid-token"),
]

# These carry the run's valid token: writes, as far as the budget is concerned.
BAD_VERSION = [
    pytest.param({"Version": None}, id="version-missing"),
    pytest.param({"Version": "1999-01-01"}, id="version-unsupported"),
]


@pytest.mark.ghl_requests(requests=1, writes=1)
@pytest.mark.parametrize("headers", UNAUTHENTICATED)
def test_request_without_a_valid_token_is_unauthorized(
        ghl: Probe, headers: dict[str, str | None]) -> None:
    ghl.require(ghl.send(ghl.documented_request(), headers=headers, expect=UNAUTHORIZED))


@pytest.mark.ghl_requests(requests=1, writes=0)
@pytest.mark.parametrize("headers", UNAUTHENTICATED)
def test_listing_without_a_valid_token_is_unauthorized(
        ghl: Probe, headers: dict[str, str | None]) -> None:
    ghl.require(ghl.send(operation="list-estimates", query=ghl.query("list-estimates"),
                         headers=headers, expect=UNAUTHORIZED))


@pytest.mark.ghl_requests(requests=1, writes=1)
@pytest.mark.parametrize("headers", BAD_VERSION)
def test_request_without_a_supported_version_is_a_client_error(
        ghl: Probe, headers: dict[str, str | None]) -> None:
    ghl.require(ghl.send(ghl.documented_request(), headers=headers, expect=CLIENT_ERROR))


@pytest.mark.ghl_needs("other_location")
@pytest.mark.ghl_requests(requests=1, writes=1)
def test_other_locations_alt_id_is_forbidden(ghl: Probe) -> None:
    body = {**ghl.documented_request(), "altId": ghl.target.other_location_id}
    ghl.require(ghl.send(body, expect=FORBIDDEN))


@pytest.mark.ghl_needs("other_estimate")
@pytest.mark.ghl_requests(requests=1, writes=1)
def test_other_locations_estimate_is_forbidden(ghl: Probe) -> None:
    ghl.require(ghl.send(ghl.documented_request(), estimate_id=ghl.target.other_estimate_id,
                         expect=FORBIDDEN))
