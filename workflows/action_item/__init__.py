"""ActionItemWorkflow: one post-mortem follow-up that reminds its owner for as long as it stays open."""
