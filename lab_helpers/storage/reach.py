"""Which address course code may open an ssh connection to: one the cloud handed to the learner's
own server, and never one from the ranges reserved for documentation, which is what the sandbox
cloud hands out (its VMs are simulated: there is nothing to log into)."""

from __future__ import annotations

from ..errors import UsageError
from ..sandbox.addresses import is_documentation

SANDBOX_VMS = (
    "the sandbox cloud's VMs are simulated and cannot be logged into, and addresses from the ranges "
    "reserved for documentation (RFC 5737) reach no machine"
)
WHAT_TO_DO = (
    "On the sandbox, measure there what the sandbox has (a volume's backing file: run the cell with "
    'BACKEND = "sandbox"); to log into a real VM, run the lab with BACKEND = "live" on Jetstream2.'
)


def refuse_documentation(address: str) -> None:
    """Raise before any connection is tried to a documentation address (the sandbox's floating IPs)."""
    if is_documentation(address):
        raise UsageError(f"not connecting to {address}: {SANDBOX_VMS}.", hint=WHAT_TO_DO)


def server_addresses(conn, server_id: str) -> set[str]:
    """Every address the cloud reports for the server: fixed and floating, from Nova and Neutron."""
    server = conn.compute.get_server(server_id)
    found = {row["addr"] for rows in (server.addresses or {}).values() for row in rows if row.get("addr")}
    for port in conn.network.ports(device_id=server_id):
        found.update(ip["ip_address"] for ip in port.fixed_ips or [])
        found.update(fip.floating_ip_address for fip in conn.network.ips(port_id=port.id))
    return found


def checked_address(conn, server_id: str, address: str) -> str:
    """``address``, once the cloud confirms it is one of the server's own and it is not a documentation one."""
    refuse_documentation(address)
    if address not in server_addresses(conn, server_id):
        raise UsageError(
            f"not connecting to {address}: the cloud does not list it among the addresses of server {server_id}.",
            hint="Use the server's floating IP as the cloud reports it (LabServer.address), or attach one first.",
        )
    return address


def login_line(address: str, user: str = "ubuntu", key: str = "<your private key>") -> str:
    """The ssh line a lab prints for its VM; for a sandbox address, with the note that it cannot be used."""
    line = f"log in with: ssh -i {key} {user}@{address}"
    if is_documentation(address):
        line += (
            "\n  (sandbox: this address comes from a range reserved for documentation and the sandbox's VMs are "
            'simulated, so this line logs into nothing; on Jetstream2, BACKEND = "live", the same line logs you in)'
        )
    return line
