"""Uploads in object storage (OpenStack Swift) through openstacksdk.

The cloud comes from a clouds.yaml: ``OS_CLOUD`` names the entry, ``OS_CLIENT_CONFIG_FILE`` says
where the file is (in the cluster, a Secret mounted as a file; never credentials in the image).
"""

from __future__ import annotations

import threading

import openstack
import openstack.connection
from openstack.config import loader


class Store:
    """Objects in one Swift container, created on first use."""

    def __init__(self, cloud: str, container: str, config_file: str | None = None) -> None:
        self.cloud = cloud
        self.container = container
        self._config_file = config_file
        self._conn: openstack.connection.Connection | None = None
        self._container_ready = False
        self._lock = threading.Lock()  # one connection, shared by the api's request threads

    def _connection(self) -> openstack.connection.Connection:
        if self._conn is None:
            if self._config_file:  # this file only (OS_CLIENT_CONFIG_FILE)
                config = loader.OpenStackConfig(config_files=[self._config_file], vendor_files=[], secure_files=[])
                self._conn = openstack.connection.Connection(config=config.get_one(cloud=self.cloud))
            else:  # openstacksdk's own search: ./clouds.yaml, ~/.config/openstack/, /etc/openstack/
                self._conn = openstack.connect(cloud=self.cloud)
        return self._conn

    def put(self, name: str, data: bytes, content_type: str = "application/json") -> None:
        with self._lock:
            conn = self._connection()
            if not self._container_ready:
                conn.object_store.create_container(name=self.container)
                self._container_ready = True
            conn.object_store.upload_object(container=self.container, name=name, data=data, content_type=content_type)

    def get(self, name: str) -> bytes:
        """The object's bytes; openstack.exceptions.ResourceNotFound if it is not there."""
        with self._lock:
            return bytes(self._connection().object_store.download_object(name, container=self.container))

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
