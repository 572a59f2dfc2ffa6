"""pgkit.py - a private PostgreSQL for a test.

start(folder) runs Debian's initdb and postgres as the `postgres` user (both
refuse root) in a fresh data folder under `folder`, on a free port of
127.0.0.1 with trust authentication, and returns a handle: url(dbname)
creates the database and gives a postgres:// URL, psql(url, sql) runs a
statement, stop() shuts the server down and removes the folder.  Skips (mmrun.Skip)
when PostgreSQL is not installed or there is no postgres user.
"""
import glob
import os
import pwd
import shutil
import subprocess
import time

from mmrun import Skip
import srvkit


def _bindir():
    c = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not c:
        raise Skip("PostgreSQL is not installed (Debian postgresql)")
    return os.path.dirname(c[-1])


class Pg:
    def __init__(self, folder):
        self.bin = _bindir()
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            raise Skip("no postgres user")
        self.run_as = [] if os.getuid() != 0 else ["runuser", "-u", "postgres", "--"]
        self.dir = os.path.join(folder, "pgdata")
        self.sock = folder
        os.makedirs(self.dir, exist_ok=True)
        if os.getuid() == 0:
            for d in (folder, self.dir):
                os.chown(d, pw.pw_uid, pw.pw_gid)
            os.chmod(folder, 0o755)
            p = folder
            # the postgres user must reach the folder
            while p not in ("/", ""):
                p = os.path.dirname(p)
                st = os.stat(p)
                if not st.st_mode & 0o001:
                    os.chmod(p, st.st_mode | 0o001)
        r = subprocess.run(self.run_as + [os.path.join(self.bin, "initdb"), "-D", self.dir,
                                          "-A", "trust", "-U", "postgres", "-E", "UTF8",
                                          "--no-sync"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("initdb: " + r.stderr)
        self.port = srvkit.free_port()
        self.log = open(os.path.join(folder, "postgres.log"), "wb")
        self.proc = subprocess.Popen(
            self.run_as + [os.path.join(self.bin, "postgres"), "-D", self.dir, "-p", str(self.port),
                           "-k", self.sock, "-c", "listen_addresses=127.0.0.1",
                           "-c", "fsync=off", "-c", "max_connections=50"],
            stdout=self.log, stderr=subprocess.STDOUT)
        end = time.time() + 60
        while time.time() < end:
            r = subprocess.run([os.path.join(self.bin, "pg_isready"), "-h", "127.0.0.1",
                                "-p", str(self.port)], capture_output=True)
            if r.returncode == 0:
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        raise RuntimeError("postgres did not become ready")

    def psql(self, db, sql):
        return subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                               "-d", db, "-v", "ON_ERROR_STOP=1", "-At", "-c", sql],
                              capture_output=True, text=True)

    def url(self, dbname):
        r = self.psql("postgres", "CREATE DATABASE %s" % dbname)
        if r.returncode != 0:
            raise RuntimeError("create database: " + r.stderr)
        return "postgres://postgres@127.0.0.1:%d/%s" % (self.port, dbname)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def start(folder):
    if not shutil.which("psql"):
        raise Skip("psql is not installed (Debian postgresql-client)")
    return Pg(folder)


def db_of(url):
    return url.rsplit("/", 1)[1]
