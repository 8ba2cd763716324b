"""Helpers shared by the tests of several packages (no test lives here)."""
