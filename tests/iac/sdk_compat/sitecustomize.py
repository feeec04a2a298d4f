"""Lets the openstack.cloud collection bundled with ansible 12 (2.5.0) run on openstacksdk 4.15+.

That collection reads ``openstack.version.__version__``, which openstacksdk removed in 4.15
(collection 2.6.0 no longer does). Only an Ansible module process (``AnsiballZ_*.py``) gets the
attribute back, from the installed package's metadata; nothing else in the SDK is touched.
Remove this folder once ansible bundles openstack.cloud 2.6 or later.
"""

import sys

if sys.argv and "AnsiballZ_" in (sys.argv[0] or ""):
    import importlib.metadata
    import types

    import openstack

    if not hasattr(openstack, "version"):
        openstack.version = types.SimpleNamespace(__version__=importlib.metadata.version("openstacksdk"))
