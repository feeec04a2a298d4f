"""The course's sample application: an api, a web page, a worker, a model service, a database and a queue.

It stands in for the project's services on its Kubernetes cluster (an api, a web front end, workers,
databases and queues, and a model service). Each part runs as ``python -m sample_app.<part>``.
"""

__version__ = "1.0.0"
