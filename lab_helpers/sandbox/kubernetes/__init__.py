"""The sandbox's Kubernetes API: served over TLS on a port of its own, to the real kubectl, Helm
and kubernetes client. ``resources`` lists the kinds, ``objects`` stores them, ``apiserver``
answers the REST API, the controllers, scheduler and kubelet make it a cluster."""
