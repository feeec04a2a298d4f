"""Cinder v3 (block storage): volumes, snapshots, types, quotas."""
