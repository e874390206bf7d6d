"""`warroom report`: incidents and action items read from Temporal visibility and the workflows' `status`
queries (no database of its own), aggregated by a pure module, rendered as text, JSON, Markdown or a PNG."""
