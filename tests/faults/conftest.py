"""The fault tests reuse the containment tests' real HAProxy in front of two shop instances."""

from tests.contain.conftest import shop, short_dir  # noqa: F401
