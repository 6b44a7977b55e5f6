"""``voiced service install|uninstall|status``: the systemd user service."""

from __future__ import annotations

import argparse

from voiced.commands import serviceunit as service
from voiced.errors import ServiceError

MANUAL = (
    "systemd's user manager could not be reached (no login session, or no systemd); "
    "once it runs, finish by hand: systemctl --user daemon-reload && "
    "systemctl --user enable --now voiced (and `loginctl enable-linger $USER` keeps voiced "
    "running without a login)"
)


def run(args: argparse.Namespace) -> int:
    """Install, remove or describe the user service.

    Returns:
        0 when done; 1 from ``status`` when the service is not installed or not active.

    Raises:
        ServiceError: The unit cannot be written, or systemctl --user failed (the message
            says what was done, the hint how to finish by hand).
    """
    paths = service.unit_paths()
    if args.action == "install":
        return _install(paths, start=not getattr(args, "no_start", False))
    if args.action == "uninstall":
        return _uninstall(paths)
    return _status(paths)


def _install(paths: service.UnitPaths, start: bool) -> int:
    unit = service.write_unit(paths)
    print(f"wrote {unit}\n  ExecStart={paths.exec_start}")
    data = service.make_data_dir()
    print(f"  data directory {data} (writable in the sandbox: ReadWritePaths)")
    if start:
        for command in (("daemon-reload",), ("enable", "--now", service.UNIT_NAME)):
            try:
                service.systemctl(*command)
            except ServiceError as exc:
                raise ServiceError(f"{unit} is written, but {exc.message}", MANUAL) from exc
        print("enabled and started voiced.service (its log: journalctl --user -u voiced)")
    return 0


def _uninstall(paths: service.UnitPaths) -> int:
    problem: ServiceError | None = None
    try:
        service.systemctl("disable", "--now", service.UNIT_NAME)
    except ServiceError as exc:
        problem = exc
    if paths.unit_file.exists():
        paths.unit_file.unlink()
        print(f"removed {paths.unit_file}")
    else:
        print(f"{paths.unit_file} was not installed")
    if problem is not None:
        raise ServiceError(
            f"{problem.message}; the unit file is removed anyway",
            "if voiced still runs: systemctl --user stop voiced && systemctl --user daemon-reload",
        )
    service.systemctl("daemon-reload", check=False)
    return 0


def _status(paths: service.UnitPaths) -> int:
    if not paths.unit_file.exists():
        print(f"not installed ({paths.unit_file} is missing): run `voiced service install`")
        return 1
    text = paths.unit_file.read_text(encoding="utf-8")
    print(f"installed: {paths.unit_file}")
    if f"\nExecStart={paths.exec_start}\n" in text:
        print("  ExecStart runs this installation")
    else:
        print("  ExecStart runs another installation: `voiced service install` updates it")
    try:
        done = service.systemctl("is-active", service.UNIT_NAME, check=False)
    except ServiceError as exc:
        print(f"  state: unknown ({exc.message})")
        return 1
    state = done.stdout.strip()
    said = done.stderr.strip().splitlines()
    print(f"  state: {state or 'unknown (' + (said[-1] if said else 'no answer') + ')'}")
    if not state:
        print(f"  {MANUAL}")
    return 0 if state == "active" else 1
