"""Helpers shared by the test suite and the CI checks under ``.ci/checks/``."""
