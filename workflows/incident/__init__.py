"""The incident: a pure domain object (`domain`), nested state (`state`), views of it (`views`), the words
people read (`wording`), and the thin Temporal shell (`workflow`) that runs it."""
