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
    assert allow.names == frozenset({"intranet.example"})
    assert [str(net) for net in allow.networks] == ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]
    assert allow.permits("x.test", ipaddress.ip_address("10.9.8.7"))
    assert allow.permits("INTRANET.example", ipaddress.ip_address("192.168.0.5"))
    assert not allow.permits("x.test", ipaddress.ip_address("192.168.0.5"))


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
