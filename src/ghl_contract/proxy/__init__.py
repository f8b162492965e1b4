"""`ghl-contract proxy`: a validating proxy that judges a team's own traffic against the contract.

It forwards every request to the upstream and every answer back unchanged, and judges each
exchange of a known operation as a contract run does, off the answer's path (`forward.py`: the
ASGI app; `judging.py`: one exchange; `session.py`: the session's thread, stream and tally;
`reports.py`: the files written when it stops; `service.py`: start and stop).
"""

from __future__ import annotations

from ghl_contract.proxy.service import ProxyOptions, RunningProxy, start

__all__ = ["ProxyOptions", "RunningProxy", "start"]
