"""Registers the contract suite's pytest plugin for runs from a checkout."""

pytest_plugins = ["ghl_contract.pytest_plugin"]
