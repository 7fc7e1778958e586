"""Login roles a test makes, each holding one pgswarm role (never the superuser the rest of the
suite runs as). Roles are cluster-wide: a name not given is unique to this process. At the end the
connections opened through them are closed and the roles dropped with what they own."""
from __future__ import annotations

import itertools
import os

import psycopg

_numbers = itertools.count()


class Logins:
    def __init__(self, admin: psycopg.Connection, dsn: str) -> None:
        self.admin = admin  # a superuser's autocommit connection
        self.base_dsn = dsn  # the superuser's DSN (postgres@...) of the test's database
        self.made: list[str] = []
        self.opened: list[psycopg.Connection] = []

    def dsn(self, role: str | None, name: str | None = None) -> str:
        """The DSN of a login holding `role` (None: no pgswarm grant), made on first use of its name."""
        name = name or f"{(role or 'nogrant').removeprefix('swarm_')}_{os.getpid()}_{next(_numbers)}"
        if name not in self.made:
            self.admin.execute(f'create role "{name}" login' + (f" in role {role}" if role else ""))
            self.made.append(name)
        return self.base_dsn.replace("postgres@", f"{name}@")

    def connect(self, role: str | None, name: str | None = None) -> psycopg.Connection:
        """An autocommit connection of a login holding `role` (see dsn)."""
        conn = psycopg.connect(self.dsn(role, name), autocommit=True)
        self.opened.append(conn)
        return conn

    def drop(self) -> None:
        for conn in self.opened:
            conn.close()
        for name in self.made:
            self.admin.execute(f'drop owned by "{name}"')
            self.admin.execute(f'drop role "{name}"')
