"""What clients send and expect, as pure functions: the bundled schemas (OpenAPI v3, validation,
patch merge keys), protobuf bodies, JSON/merge/strategic merge patches, server-side apply."""
