"""The OpenStack family as the sandbox serves it: its services, how a new (or reset) sandbox is
seeded, and the clouds.yaml it writes for clients once its port is known."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ..api import Family, Listener, Service
from ..files import write_private_yaml
from ..store import Store
from .cinder.routes import SERVICE as CINDER
from .common import NOVA, request_ids
from .glance.images import seed as seed_images
from .glance.routes import SERVICE as GLANCE
from .identity import bootstrap
from .keystone.routes import SERVICE as KEYSTONE
from .neutron.model import readdress_public
from .neutron.model import seed as seed_network
from .neutron.routes import SERVICE as NEUTRON
from .nova.routes import SERVICE as NOVA_SERVICE
from .s3.routes import SERVICE as S3
from .swift.routes import SERVICE as SWIFT

# A path no service owns gets Nova's fault body and OpenStack's request id, as the API gateway's 404 would.
FALLBACK = Service("openstack", "", (), NOVA, stamp=request_ids("X-Openstack-Request-Id"))


def prepare(store: Store) -> None:
    """Identities once per sandbox; networks and images again after each reset."""
    bootstrap(store)
    with store.tx():
        if store.meta("seeded") != "1":
            seed_network(store, store.meta("project_id") or "")
            seed_images(store)
            store.set_meta("seeded", "1")
        readdress_public(store)  # a sandbox seeded before its public network used a documentation range


def write_clouds_yaml(store: Store, state_dir: Path, urls: Mapping[str, str]) -> Path:
    """The sandbox's clouds.yaml (mode 0600): `sandbox` for the learner, `sandbox-admin` for admin views."""

    auth_url = f"{urls['main']}/identity/v3"
    common = {"region_name": "IU", "interface": "public", "identity_api_version": 3}
    doc = {
        "clouds": {
            "sandbox": {
                "auth_type": "v3applicationcredential",
                "auth": {
                    "auth_url": auth_url,
                    "application_credential_id": store.meta("app_cred_id"),
                    "application_credential_secret": store.meta("app_cred_secret"),
                },
                **common,
            },
            "sandbox-admin": {
                "auth_type": "v3password",
                "auth": {
                    "auth_url": auth_url,
                    "username": "admin",
                    "password": store.meta("admin_password"),
                    "user_domain_name": "Default",
                    "project_id": store.meta("project_id"),
                    "project_domain_name": "Default",
                },
                **common,
            },
        }
    }
    return write_private_yaml(Path(state_dir) / "clouds.yaml", doc)


OPENSTACK = Family(
    "openstack",
    (KEYSTONE, NOVA_SERVICE, GLANCE, NEUTRON, CINDER, SWIFT, S3),
    FALLBACK,
    prepare,
    write_clouds_yaml,
    listeners=(Listener("s3", S3.prefix),),
)
