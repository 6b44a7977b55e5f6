"""The systemd unit: valid for systemd-analyze, installed with this installation's ExecStart."""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from voiced.commands import service as service_command
from voiced.commands import serviceunit as service
from voiced.errors import ServiceError

ROOT = Path(__file__).resolve().parents[2]
needs_analyze = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed"
)


def verify(unit: Path, runtime_dir: Path) -> subprocess.CompletedProcess[str]:
    """Run ``systemd-analyze verify --user`` the way the reference describes."""
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime_dir)}
    return subprocess.run(
        ["systemd-analyze", "verify", "--user", str(unit)],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        check=False,
    )


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_the_shipped_unit_is_the_rendered_template() -> None:
    shipped = (ROOT / "systemd" / "voiced.service").read_text()
    assert shipped == service.render(service.generic_paths())


@pytest.mark.subprocess
@needs_analyze
def test_the_shipped_unit_passes_systemd_analyze_verify(runtime_dir: Path) -> None:
    done = verify(ROOT / "systemd" / "voiced.service", runtime_dir)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # systemd-analyze warns about bad lines but still exits 0


@pytest.mark.subprocess
@needs_analyze
def test_verify_catches_a_misspelt_directive(runtime_dir: Path, tmp_path: Path) -> None:
    text = (ROOT / "systemd" / "voiced.service").read_text()
    bad = tmp_path / "voiced.service"
    bad.write_text(text.replace("WatchdogSec=", "WatchdogSecs="))
    assert "Unknown key 'WatchdogSecs'" in verify(bad, runtime_dir).stderr


def test_the_unit_is_a_notify_service_restarted_on_failure_with_a_watchdog() -> None:
    text = service.render(service.generic_paths())
    for line in (
        "Type=notify",
        "Restart=on-failure",
        "WatchdogSec=30",
        "EnvironmentFile=-%h/.config/voiced/credentials",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "PrivateTmp=yes",
        "WantedBy=default.target",
    ):
        assert f"\n{line}\n" in text
    # Audio reaches PulseAudio/PipeWire through the runtime dir, which stays writable.
    assert "\nReadWritePaths=%t " in text
    assert "\nPrivateDevices=" not in text and "\nProtectHome=" not in text


@pytest.mark.subprocess
@needs_analyze
def test_install_writes_a_unit_whose_exec_start_runs_this_installation(
    home: Path, runtime_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert service_command.run(argparse.Namespace(action="install", no_start=True)) == 0
    unit = home / ".config" / "systemd" / "user" / "voiced.service"
    text = unit.read_text()
    exec_start = next(line for line in text.splitlines() if line.startswith("ExecStart="))
    argv = shlex.split(exec_start.removeprefix("ExecStart="))
    assert Path(argv[0]).is_absolute() and os.access(argv[0], os.X_OK)
    assert argv[-1] == "daemon"
    help_run = subprocess.run(
        [*argv[:-1], "--version"], capture_output=True, text=True, timeout=30, check=False
    )
    assert help_run.stdout.startswith("voiced "), help_run.stderr
    assert f"EnvironmentFile=-{home}/.config/voiced/credentials" in text
    assert f"ReadWritePaths=%t -{home}/.local/share/voiced" in text
    done = verify(unit, runtime_dir)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert str(unit) in capsys.readouterr().out


@pytest.mark.subprocess
def test_install_without_a_user_manager_says_what_was_done_and_how_to_finish(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, ...]] = []
    real = service.systemctl

    def recording(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        calls.append(args)
        return real(*args, check=check)

    monkeypatch.setattr(service, "systemctl", recording)
    if shutil.which("systemctl") is None:
        pytest.skip("systemctl is not installed")
    probe = subprocess.run(
        ["systemctl", "--user", "is-system-running"], capture_output=True, check=False, timeout=30
    )
    if probe.returncode == 0:
        pytest.skip("a systemd user manager runs here: install would really enable voiced")
    with pytest.raises(ServiceError) as info:
        service_command.run(argparse.Namespace(action="install", no_start=False))
    assert "is written, but systemctl --user daemon-reload failed" in info.value.message
    assert "systemctl --user enable --now voiced" in info.value.hint
    assert "loginctl enable-linger" in info.value.hint
    assert calls == [("daemon-reload",)]
    assert (home / ".config" / "systemd" / "user" / "voiced.service").exists()


@pytest.mark.subprocess
def test_uninstall_removes_the_unit_even_when_systemctl_cannot_be_reached(home: Path) -> None:
    service_command.run(argparse.Namespace(action="install", no_start=True))
    unit = home / ".config" / "systemd" / "user" / "voiced.service"
    probe = subprocess.run(
        ["systemctl", "--user", "is-system-running"], capture_output=True, check=False, timeout=30
    )
    if probe.returncode == 0:
        pytest.skip("a systemd user manager runs here")
    with pytest.raises(ServiceError, match="removed anyway"):
        service_command.run(argparse.Namespace(action="uninstall"))
    assert not unit.exists()


@pytest.mark.subprocess
def test_status_tells_an_unit_of_another_installation(home: Path, capsys) -> None:
    paths = service.unit_paths()
    other = service.UnitPaths(
        "/opt/old/bin/voiced daemon", paths.credentials, paths.data_dir, paths.unit_file
    )
    service.write_unit(other)
    service_command.run(argparse.Namespace(action="status"))
    assert "another installation" in capsys.readouterr().out


def test_install_creates_the_data_directory_so_read_write_paths_applies(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # ProtectSystem=strict makes the home read-only but for ReadWritePaths, and systemd skips
    # a "-" path that does not exist: the daemon could never create it from inside.
    data = home / ".local" / "share" / "voiced"
    assert not data.exists()
    assert service_command.run(argparse.Namespace(action="install", no_start=True)) == 0
    assert data.is_dir() and (data.stat().st_mode & 0o777) == 0o700
    unit = (home / ".config" / "systemd" / "user" / "voiced.service").read_text()
    assert f"\nReadWritePaths=%t -{data}\n" in unit
    assert f"data directory {data}" in capsys.readouterr().out
