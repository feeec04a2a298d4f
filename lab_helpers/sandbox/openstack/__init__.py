"""The OpenStack family: Keystone, Nova, Glance, Cinder, Swift and Neutron, one package each.

``family.py`` lists the services and seeds their state; ``common.py`` holds what every OpenStack
service declares alike (Keystone tokens, the request-id header, microversions, the error styles);
``identity.py`` the project, users and tokens they all read; ``catalog_data.py`` Jetstream2's facts.
"""
