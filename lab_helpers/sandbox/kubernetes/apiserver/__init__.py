"""The Kubernetes REST API: discovery, OpenAPI, CRUD, watch, patches, subresources."""
