"""Protobuf field numbers of the workloads kinds that typed clients send (``kubectl create ...``), in the
format of ``protobuf_fields.TABLE``; ``ROOT_KINDS`` are the kinds a body may carry."""

TABLE = """
"""

ROOT_KINDS: tuple[str, ...] = ()
