"""The door: an HTTP service that turns alerting webhooks into `Alert`s and hands them to Temporal."""
