"""The systemd user service: the unit's text, where it goes, and systemctl --user around it."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import typing
from dataclasses import dataclass
from pathlib import Path

from voiced.config import config_dir, data_dir
from voiced.errors import ServiceError

UNIT_NAME = "voiced.service"

UNIT_TEMPLATE = """\
# voiced: the hands-free voice assistant, as a systemd user service.
# Installed by `voiced service install`; see `voiced doctor` when something is wrong.
[Unit]
Description=voiced voice assistant (Groq speech-to-text, chat and speech)
After=pipewire-pulse.service pulseaudio.service
StartLimitIntervalSec=60
StartLimitBurst=5

[Service]
Type=notify
NotifyAccess=main
ExecStart={exec_start}
ExecReload=/bin/kill -HUP $MAINPID
Restart=on-failure
RestartSec=2
WatchdogSec=30
TimeoutStopSec=5
# The API key: the credentials file holds GROQ_API_KEY=… (mode 0600); "-" = optional.
EnvironmentFile=-{credentials}
Environment=PYTHONUNBUFFERED=1
# Programs voiced opens (open_url, open_application) are started by the user manager
# (systemd-run --user): outside this sandbox, not stopped with it, never given the key.
# Sandboxing that keeps audio working. PulseAudio and PipeWire are reached through the
# socket in $XDG_RUNTIME_DIR (%t): connecting to a socket needs no write access, and the
# control socket lives in %t/voiced. /dev stays visible (no PrivateDevices=) for ALSA.
NoNewPrivileges=yes
ProtectSystem=strict
ReadWritePaths=%t {data_dir}
PrivateTmp=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectControlGroups=yes
RestrictSUIDSGID=yes
LockPersonality=yes
SystemCallArchitectures=native
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK

[Install]
WantedBy=default.target
"""


@dataclass(frozen=True)
class UnitPaths:
    """What the unit refers to, and where it is installed."""

    exec_start: str
    """The command line, its program an absolute path."""
    credentials: str
    data_dir: str
    unit_file: Path


def this_installation() -> list[str]:
    """The command that runs this installation's ``voiced daemon``.

    The ``voiced`` script beside the running Python (a venv or pipx install) when it exists,
    else that Python with ``-m voiced``: either way an absolute path systemd can run.
    """
    script = Path(sys.executable).parent / "voiced"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script), "daemon"]
    return [str(Path(sys.executable).absolute()), "-m", "voiced", "daemon"]


def unit_paths(env: typing.Mapping[str, str] | None = None) -> UnitPaths:
    """Work out the unit's paths for this user and installation.

    Args:
        env: The environment to read (HOME, XDG_CONFIG_HOME, XDG_DATA_HOME); defaults to
            ``os.environ``.
    """
    env = os.environ if env is None else env
    home = Path(env.get("HOME", "~")).expanduser()
    config_home = Path(env.get("XDG_CONFIG_HOME") or home / ".config")
    return UnitPaths(
        exec_start=shlex.join(this_installation()),
        credentials=str(config_dir(env) / "credentials"),
        data_dir="-" + str(data_dir(env)),
        unit_file=config_home / "systemd" / "user" / UNIT_NAME,
    )


def make_data_dir(env: typing.Mapping[str, str] | None = None) -> Path:
    """Create the data directory (mode 0700) before the service first starts.

    The unit makes the whole file system read-only (``ProtectSystem=strict``) except its
    ``ReadWritePaths``, and systemd skips a path listed there that does not exist yet (the
    ``-`` prefix): the daemon could then never create it. So install creates it.

    Raises:
        ServiceError: It cannot be created.
    """
    path = data_dir(env)
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        if path.stat().st_mode & 0o077:
            path.chmod(0o700)
    except OSError as exc:
        raise ServiceError(
            f"cannot create the data directory {path}: {exc.strerror}",
            "check XDG_DATA_HOME and the permissions of its parent, then install again",
        ) from exc
    return path


def generic_paths() -> UnitPaths:
    """The paths of the unit shipped in ``systemd/voiced.service`` for packagers: ``voiced``
    found on systemd's PATH, files under the user's home (``%h``)."""
    return UnitPaths(
        exec_start="/usr/bin/env voiced daemon",
        credentials="%h/.config/voiced/credentials",
        data_dir="-%h/.local/share/voiced",
        unit_file=Path("systemd") / UNIT_NAME,
    )


def render(paths: UnitPaths) -> str:
    """Return the unit file's text for ``paths``."""
    return UNIT_TEMPLATE.format(
        exec_start=paths.exec_start, credentials=paths.credentials, data_dir=paths.data_dir
    )


def write_unit(paths: UnitPaths) -> Path:
    """Write the unit file (replacing an older one) and return its path.

    Raises:
        ServiceError: The file cannot be written.
    """
    try:
        paths.unit_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = paths.unit_file.with_name(UNIT_NAME + ".tmp")
        tmp.write_text(render(paths), encoding="utf-8")
        tmp.replace(paths.unit_file)
    except OSError as exc:
        raise ServiceError(f"cannot write {paths.unit_file}: {exc.strerror}") from exc
    return paths.unit_file


def systemctl(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``systemctl --user ARGS``.

    Raises:
        ServiceError: systemctl is missing, or (with ``check``) it failed; the message has
            what it printed.
    """
    program = shutil.which("systemctl")
    if program is None:
        raise ServiceError("systemctl is not installed", "voiced service needs systemd")
    try:
        done = subprocess.run(
            [program, "--user", *args], capture_output=True, text=True, timeout=30, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise ServiceError(f"systemctl --user {' '.join(args)} did not answer in 30 s") from exc
    if check and done.returncode != 0:
        said = (done.stderr or done.stdout).strip().splitlines()
        raise ServiceError(
            f"systemctl --user {' '.join(args)} failed: {said[-1] if said else done.returncode}"
        )
    return done
