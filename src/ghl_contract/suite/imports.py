"""What a contract run keeps from loading: httpx's command-line client.

`import httpx` loads `httpx._main`, its command-line client, whenever click, rich and pygments are
installed (they are: Schemathesis brings them), and so imports all three: about a tenth of the
run's own start-up, for a command a run never calls. Before httpx is first imported, a stand-in
takes the module's place; `httpx.main()` still works, through the stand-in, which loads the real
client when it is called. httpx itself is not changed.
"""

from __future__ import annotations

import sys
import types
from typing import Any

_CLIENT = "httpx._main"


def without_httpx_cli() -> None:
    """Keep `import httpx` from loading its command-line client (no-op once httpx is loaded)."""
    if "httpx" in sys.modules or _CLIENT in sys.modules:
        return
    stand_in = types.ModuleType(_CLIENT, "httpx's command-line client, loaded when called.")

    def main(*args: Any, **kwargs: Any) -> Any:
        if sys.modules.get(_CLIENT) is stand_in:
            del sys.modules[_CLIENT]
        from httpx._main import main as real

        return real(*args, **kwargs)

    stand_in.main = main  # type: ignore[attr-defined]
    sys.modules[_CLIENT] = stand_in
