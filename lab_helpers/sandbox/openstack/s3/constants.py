"""Where S3 is mounted on the main port (its own port serves it at the root) and its one region:
shared by the service and by ``credentials`` (which runs in the learner's process and must not
import the service's modules)."""

PREFIX = "/s3"
REGION = "IU"
