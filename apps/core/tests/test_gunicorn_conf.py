"""Issue 26, point 11: gunicorn's control socket defaults to one path per host user, shared by
every instance; deploy/gunicorn.conf.py turns it off unless an instance names its own."""

from __future__ import annotations

from pathlib import Path

from gunicorn.app.base import Application

CONF = str(Path(__file__).resolve().parents[3] / "deploy" / "gunicorn.conf.py")


class GunicornConfig(Application):
    """gunicorn's own loading of a `-c` file, without reading the command line."""

    def load_config(self):
        self.load_config_from_file(CONF)

    def load(self):  # never served
        return None


def test_the_control_socket_is_off_by_default(monkeypatch):
    monkeypatch.delenv("GUNICORN_CONTROL_SOCKET", raising=False)
    assert GunicornConfig().cfg.control_socket_disable is True


def test_an_instance_may_name_its_own_control_socket(monkeypatch, tmp_path):
    path = str(tmp_path / "api-1.ctl")
    monkeypatch.setenv("GUNICORN_CONTROL_SOCKET", path)
    cfg = GunicornConfig().cfg
    assert cfg.control_socket_disable is False
    assert cfg.control_socket == path
