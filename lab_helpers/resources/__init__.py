"""A learner's cloud resources: tagged on creation, found again, and cleaned up in order."""
