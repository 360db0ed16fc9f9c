"""`agent-factory db` and `admin`: the same database and services as `serve`, clear errors."""

from __future__ import annotations

import asyncio
import json
import socket

import psycopg
import pytest
from click.testing import CliRunner

from agent_factory.cli import main
from agent_factory.platform.admin import listen
from agent_factory.platform.db.migrate import CHECKSUM_TABLE, MigrationError, upgrade


@pytest.fixture
def cli(database):
    runner = CliRunner()
    return lambda *args, input=None: runner.invoke(main, list(args), env={"DATABASE_URL": database.owner}, input=input)


def test_db_status_lists_the_applied_migrations(cli, database):
    result = cli("db", "status")
    assert (result.exit_code, result.output) == (0, "applied  0001_initial\napplied  0010_runs\napplied  0011_team_secrets\napplied  0012_agent_read\napplied  0013_run_worker\napplied  0013_run_worker_plans\napplied  0014_run_start\n"
                                                     "applied  0016_member_consent\n")
    as_json = cli("db", "status", "--format", "json")
    assert json.loads(as_json.output) == {"applied": ["0001_initial", "0010_runs", "0011_team_secrets", "0012_agent_read", "0013_run_worker", "0013_run_worker_plans", "0014_run_start",
                                                       "0016_member_consent"], "pending": [],
                                           "current": True}
    assert cli("db", "upgrade").output == "the database is up to date\n"


def test_an_edited_migration_is_refused(database):
    with psycopg.connect(database.owner, autocommit=True) as conn:
        original = conn.execute(f"SELECT sha256 FROM {CHECKSUM_TABLE} WHERE migration_id = '0001_initial'").fetchone()[0]
        conn.execute(f"UPDATE {CHECKSUM_TABLE} SET sha256 = 'edited' WHERE migration_id = '0001_initial'")
        try:
            with pytest.raises(MigrationError) as raised:
                upgrade(database.owner)
        finally:
            conn.execute(f"UPDATE {CHECKSUM_TABLE} SET sha256 = %s WHERE migration_id = '0001_initial'", (original,))
    assert raised.value.detail == ("migration 0001_initial was edited after it was applied; migrations are forward-only: "
                                   "restore the file and add a new migration instead")


def test_admin_create_team_prints_an_owner_key_that_works(cli, client):
    result = cli("admin", "create-team", "Initech", "--owner", "bill@initech.test", "--plan", "pro", "--format", "json")
    assert result.exit_code == 0, result.output
    created = json.loads(result.output)
    assert (created["name"], created["plan"], created["owner"]) == ("Initech", "pro", "bill@initech.test")
    assert created["scopes"] == ["admin", "agents:read", "agents:write", "runs:write"]
    team = client.get("/v1/teams/me", headers={"X-Api-Key": created["key"]}).json()
    assert (team["id"], team["plan"]) == (created["team_id"], "pro")


def test_admin_set_password_lets_the_owner_log_in(cli, client):
    cli("admin", "create-team", "Umbrella", "--owner", "alice@umbrella.test")
    result = cli("admin", "set-password", "alice@umbrella.test", "--password-stdin", input="red queen\n")
    assert (result.exit_code, result.output) == (0, "password set for alice@umbrella.test\n")
    assert client.post("/v1/sessions", json={"email": "alice@umbrella.test", "password": "red queen"}).status_code == 201
    unknown = cli("admin", "set-password", "nobody@umbrella.test", "--password-stdin", input="x\n")
    assert (unknown.exit_code, unknown.output) == (1, "error: no user with the e-mail nobody@umbrella.test\n")


def test_data_dir_with_database_url_is_a_usage_error(cli, tmp_path):
    result = cli("db", "status", "--data-dir", str(tmp_path))
    assert result.exit_code == 2
    assert "--data-dir is for the embedded database; DATABASE_URL is set, unset one of them" in result.output


def test_an_unreachable_database_is_one_error_line():
    result = CliRunner().invoke(main, ["db", "status"], env={"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"})
    assert result.exit_code == 1
    assert result.output.startswith("error: cannot use the database: ")
    assert "Traceback" not in result.output


def test_admin_refuses_a_bad_owner_address(cli):
    result = cli("admin", "create-team", "X", "--owner", "not an email")
    assert result.exit_code == 2
    assert "--owner must be an e-mail address, not 'not an email'" in result.output


def test_help_explains_serve_and_the_database_options():
    output = CliRunner().invoke(main, ["serve", "--help"]).output
    assert "Run the hosted API (teams, keys, agents from specs) until Ctrl-C." in output
    assert "--data-dir" in output and "DATABASE_URL" in output
    assert "Apply every pending migration" in CliRunner().invoke(main, ["db", "--help"]).output + CliRunner().invoke(main, ["db", "upgrade", "--help"]).output


def test_serve_on_a_taken_port_says_so_before_starting(cli):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli("serve", "--port", str(port))
    assert result.exit_code == 1
    assert result.output == f"error: cannot listen on 127.0.0.1:{port}: Address already in use\n"


def test_connections_on_the_serve_socket_have_nagle_off():
    """A response written in two parts must not wait for the client's delayed ACK (40 ms)."""
    accepted: list[int] = []

    async def accept_one() -> None:
        sock = listen("127.0.0.1", 0)
        loop = asyncio.get_running_loop()
        got = loop.create_future()

        class Record(asyncio.Protocol):
            def connection_made(self, transport) -> None:
                option = transport.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
                got.set_result(option)
                transport.close()

        server = await loop.create_server(Record, sock=sock)
        _, writer = await asyncio.open_connection(*sock.getsockname())
        accepted.append(await asyncio.wait_for(got, 10))
        writer.close()
        server.close()
        await server.wait_closed()

    asyncio.run(accept_one())
    assert accepted == [1]
