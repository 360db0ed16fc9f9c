"""Which addresses tools may reach: public ones, and what the allow-list names."""

from __future__ import annotations

import ipaddress
import socket

import pytest
from pydantic import ValidationError

from agent_factory.runtime.tools import AllowList, HttpConfig, ToolError, forbidden_reason
from agent_factory.runtime.tools.netpolicy import Refused, pin_address


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "a loopback address"),
        ("127.8.9.10", "a loopback address"),
        ("10.0.0.1", "a private address"),
        ("172.16.5.4", "a private address"),
        ("192.168.1.1", "a private address"),
        ("169.254.169.254", "a link-local address"),
        ("0.0.0.0", "an unspecified address"),
        ("100.64.0.1", "a non-public address"),
        ("224.0.0.1", "a multicast address"),
        ("240.0.0.1", "a private address"),
        ("255.255.255.255", "a private address"),
        ("::1", "a loopback address"),
        ("::", "an unspecified address"),
        ("fe80::1", "a link-local address"),
        ("fc00::1", "a private address"),
        ("ff02::1", "a multicast address"),
        ("::ffff:127.0.0.1", "a loopback address (IPv4-mapped 127.0.0.1)"),
        ("::ffff:10.1.2.3", "a private address (IPv4-mapped 10.1.2.3)"),
        ("64:ff9b::a9fe:a9fe", "a link-local address (NAT64 169.254.169.254)"),
        ("2002:7f00:1::", "a loopback address (6to4 127.0.0.1)"),
        ("8.8.8.8", None),
        ("2606:4700:4700::1111", None),
        ("::ffff:8.8.8.8", None),
    ],
)
def test_addresses_are_judged_by_what_they_reach(address, reason):
    assert forbidden_reason(ipaddress.ip_address(address)) == reason


def test_allow_list_takes_addresses_networks_and_names():
    allow = AllowList.parse(["127.0.0.1", "10.0.0.0/8", "[::1]", "Intranet.Example."])
    assert allow.names == frozenset({("intranet.example", None)})
    assert [(str(net), port) for net, port in allow.networks] == [
        ("127.0.0.1/32", None), ("10.0.0.0/8", None), ("::1/128", None)]
    assert allow.permits("x.test", ipaddress.ip_address("10.9.8.7"))
    assert allow.permits("INTRANET.example", ipaddress.ip_address("192.168.0.5"))
    assert not allow.permits("x.test", ipaddress.ip_address("192.168.0.5"))


def test_allow_list_entries_with_a_port_allow_that_port_only():
    allow = AllowList.parse(["127.0.0.1:8080", "[::1]:9000", "intranet.example:443", "10.0.0.0/8:5432"])
    loopback, v6, private = (ipaddress.ip_address(a) for a in ("127.0.0.1", "::1", "10.1.2.3"))
    assert allow.permits("127.0.0.1", loopback, 8080)
    assert not allow.permits("127.0.0.1", loopback, 8081)
    assert allow.permits("::1", v6, 9000) and not allow.permits("::1", v6, 80)
    assert allow.permits("Intranet.Example", private, 443) and not allow.permits("intranet.example", private, 80)
    assert allow.permits("db.test", private, 5432) and not allow.permits("db.test", private, 22)


@pytest.mark.parametrize("entry, message", [
    ("127.0.0.1:http", "allow_hosts entry '127.0.0.1:http' has an invalid port 'http' (expected 1-65535)"),
    ("host.test:0", "allow_hosts entry 'host.test:0' has an invalid port '0' (expected 1-65535)"),
    ("[::1", "allow_hosts entry '[::1' is not '[address]' or '[address]:port'"),
])
def test_a_bad_port_in_the_allow_list_is_a_config_error(entry, message):
    with pytest.raises(ValidationError) as caught:
        HttpConfig(allow_hosts=(entry,))
    assert message in str(caught.value)


@pytest.mark.anyio
async def test_a_redirect_to_another_port_of_an_allowed_address_is_refused(local_server):
    from agent_factory.runtime.tools import ToolConfig, ToolContext, safe_fetch

    ctx = ToolContext(ToolConfig(timeout_s=5, http=HttpConfig(allow_hosts=(f"127.0.0.1:{local_server.port}",))))
    assert (await safe_fetch(f"{local_server.url}/echo", ctx)).status == 200
    other = f"http://127.0.0.1:{local_server.port + 1}/x"
    with pytest.raises(Refused) as caught:
        await safe_fetch(f"{local_server.url}/redirect?to={other}", ctx)
    assert str(caught.value) == (
        f"refused to follow the redirect from {local_server.url}/redirect?to={other} to {other}: "
        "127.0.0.1 is a loopback address; add the host or its network to [tools.http] allow_hosts to allow it"
    )


def test_an_empty_allow_list_entry_is_a_config_error():
    with pytest.raises(ValidationError) as caught:
        HttpConfig(allow_hosts=("127.0.0.1", " "))
    assert "allow_hosts entries must not be empty" in str(caught.value)


def _resolver(*answers: str, calls: list | None = None):
    async def resolve(host: str, port: int) -> list[str]:
        if calls is not None:
            calls.append((host, port))
        return list(answers)

    return resolve


@pytest.mark.anyio
async def test_a_name_with_any_private_answer_is_refused():
    resolve = _resolver("93.184.215.14", "10.0.0.7")
    with pytest.raises(Refused) as caught:
        await pin_address("mixed.test", 443, AllowList(), resolve)
    assert str(caught.value) == "mixed.test resolves to 10.0.0.7, a private address"


@pytest.mark.anyio
@pytest.mark.parametrize("answers, private", [
    (("1.1.1.1", "192.168.1.5"), "192.168.1.5, a private address"),
    (("93.184.215.14", "fd00::7"), "fd00::7, a private address"),
    (("8.8.8.8", "9.9.9.9", "127.0.0.2"), "127.0.0.2, a loopback address"),
])
async def test_a_private_answer_after_public_ones_is_refused(answers, private):
    # the private address sorts after the public one, so checking only the pinned (first)
    # address would let this name through
    with pytest.raises(Refused) as caught:
        await pin_address("mixed.test", 443, AllowList(), _resolver(*answers))
    assert str(caught.value) == f"mixed.test resolves to {private}"


@pytest.mark.anyio
async def test_the_pinned_address_is_the_lowest_ipv4_answer():
    calls: list = []
    resolve = _resolver("2606:4700::1", "93.184.215.14", "1.1.1.1", calls=calls)
    assert str(await pin_address("public.test", 80, AllowList(), resolve)) == "1.1.1.1"
    assert calls == [("public.test", 80)]


@pytest.mark.anyio
async def test_ip_literals_are_not_resolved():
    calls: list = []
    with pytest.raises(Refused) as caught:
        await pin_address("169.254.169.254", 80, AllowList(), _resolver(calls=calls))
    assert str(caught.value) == "169.254.169.254 is a link-local address"
    assert calls == []


@pytest.mark.anyio
async def test_an_unknown_host_is_a_tool_error(monkeypatch):
    def no_such_host(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)  # no DNS traffic from tests
    with pytest.raises(ToolError) as caught:
        await pin_address("no-such-host.invalid", 80, AllowList())
    assert str(caught.value) == "cannot resolve host 'no-such-host.invalid': Name or service not known"
