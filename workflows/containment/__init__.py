"""Containment: runbooks in policy, the action book with its approvals, and phased recovery (issue 9)."""
