"""The markers a contract test carries, and the order the suite runs its modules in.

`ghl_requests` says what a test sends, for the run's plan: `requests` it sends itself (`writes` of
them to operations that write), the `generated` cases it sends (each a write), and whether it
reads the run's shared documented conversion (`converts`). `ghl_needs` names something the run
must know for the test to make sense (a second location...); without it the test is skipped.
"""

from __future__ import annotations

MARKER = "ghl_requests"
MARKER_HELP = (f"{MARKER}(requests=1, writes=1, generated=None, converts=False): what a "
               "contract test sends, for the run's plan (generated: 'valid' or 'invalid', the "
               "kind of generated cases it sends, each a write; converts: it reads the shared "
               "documented conversion of its estimate, or of every estimate).")

NEEDS = "ghl_needs"
NEEDS_HELP = (f"{NEEDS}(what): a contract test that runs only when the run knows `what` "
              "(other_location, other_estimate, compare_version).")

# Contract tests run in this order: those that send no write first (they cost no write budget,
# and a target that does not answer is noticed on them), then by module: conversions first (the
# documented one, then generated ones), so that a live run's write budget goes to requests that
# exercise the whole contract before the error cases. Modules not listed (a team's own) run last.
ORDER = ("test_examples.py", "test_invariants.py", "test_lifecycle.py", "test_versions.py",
         "test_properties.py", "test_auth.py", "test_negative.py")
