"""Where a post-mortem goes once written: a Markdown directory (always) and, when configured, a signed webhook
that a wiki or docs system receives (docs/postmortem.md, "Publishing")."""
