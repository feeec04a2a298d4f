"""Neutron v2.0 (networking)."""
