"""S3 (the object store's S3-compatible API, as Ceph RadosGW serves it on Jetstream2).

The same buckets and objects Swift serves: a bucket is the project's container of that name, an
object's ``x-amz-meta-*`` headers are its Swift ``X-Object-Meta-*`` metadata, so bytes written
through one API read back through the other. Requests are signed with AWS Signature Version 4
against the EC2 credentials Keystone issued (``openstack ec2 credentials create``).

Where Jetstream2 (RadosGW) differs from AWS, the sandbox follows RadosGW:

- one region, ``IU``, but the signature is checked with whatever region the client's credential
  scope names (RadosGW does not reject a client configured for ``us-east-1``);
- creating a bucket the project already owns answers 200 (RadosGW's default), and any
  ``LocationConstraint`` is accepted;
- error bodies carry ``Code``, ``Message``, ``BucketName``/``Key``, ``RequestId`` and ``HostId``;
  request ids look like RadosGW's (``tx000...``);
- no versioning, object lock, bucket policies, ACL grants beyond the owner, website hosting,
  SSE or S3 Select (RadosGW has some of these; the course uses none): those subresources answer
  ``NotImplemented``.

As on Jetstream2 (``https://js2.jetstream-cloud.org:8001``), S3 is served at the root of a port of
its own (the sandbox's ``s3`` listener), the endpoint Keystone's catalog lists and ``lab sandbox env``
exports: clients that take a host rather than a URL (``s3cmd``'s ``host_base``) need that. The same
service also answers under ``/s3`` of the sandbox's main port, for a client configured with that.

Where the sandbox is smaller than both: virtual-hosted addressing is ``<bucket>.localhost``; only
Signature Version 4 is accepted (RadosGW also takes version 2); ``aws-chunked`` bodies are decoded
but their per-chunk signatures are not checked (the request's own signature is).
"""
