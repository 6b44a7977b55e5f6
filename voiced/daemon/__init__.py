"""The daemon, the process that runs all day: state machine, event bus, control socket, the
users' controls, sd_notify and the recent turns. The turn pipeline is :mod:`voiced.pipeline`."""

from voiced.daemon.app import Daemon
from voiced.daemon.bus import EventBus, Subscription
from voiced.daemon.engine import Engine, IdleEngine
from voiced.daemon.notify import Notifier
from voiced.daemon.state import STATES, TRANSITIONS, InvalidTransition, StateMachine

__all__ = [
    "STATES",
    "TRANSITIONS",
    "Daemon",
    "Engine",
    "EventBus",
    "IdleEngine",
    "InvalidTransition",
    "Notifier",
    "StateMachine",
    "Subscription",
]
