"""PostmortemReviewWorkflow: the review of one incident occurrence and the duties that outlive its resolution."""
