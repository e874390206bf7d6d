"""One module per sender format: its wire model (what it posts) and `to_alerts` (what warroom reads)."""
