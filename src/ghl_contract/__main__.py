"""`python -m ghl_contract`: the `ghl-contract` command."""

from __future__ import annotations

from ghl_contract.cli import main

if __name__ == "__main__":
    main()
