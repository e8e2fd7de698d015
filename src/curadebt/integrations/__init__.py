"""Adapters for other tools (datatrove); each imports its tool only when used."""
