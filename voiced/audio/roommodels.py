"""The double-talk detector's models of the room (:mod:`voiced.audio.doubletalk`): the echo
each predicts in every band of a 10 ms block, and whether the microphone stands out of it.

A model predicts a band's echo as the loudest far-end block around the echo's delay
(``SPREAD``) or before it, each ``decay`` dB less per block older (``DECAYS_DB``), plus the
band's echo return loss (ERL): the ``ERL_QUANTILE`` percentile of the microphone over the
prediction in the blocks it took for voiced alone. A block whose bands stand out by
``EXCESS_DB``, summed, holds a near-end talker; the fastest-decaying model that fits the room
decides. All the models judge a call's blocks together, in one pass of array operations.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

SPREAD = (3, 1)
"""The echo predicted for a block is the loudest far-end block from this many blocks before
the delay to this many after it."""
TAIL_BLOCKS = 50
"""Far-end blocks older than that still count for the room's reverberation, this many (0.5 s)."""
DECAYS_DB = (math.inf, 3.0, 1.2)
"""How fast the reverberation may die away, in dB per block, from none (a dry room, a
loopback) to a reverberation time of 0.5 s: each is a model of the room, and the fastest that
fits is used (a slower one takes longer echoes for voiced's, and hides more of the user)."""
FITS = 0.05
"""A model fits while it takes at most this share of its recent blocks for a near-end talker
(the user does talk over a reply, but seldom for long; a room it misjudges, ever so often)."""
FIT_LAG = 20
"""The latest blocks (0.2 s) do not count for whether a model fits: they may hold the start of
the very speech being dated, which would make the fastest model seem not to fit."""
ERL_BLOCKS = 300
"""The ERL is taken over this many blocks (3 s) judged to hold voiced alone."""
ERL_LEAST = 30
"""Blocks (0.3 s) of voiced alone needed in a band before it is judged."""
ERL_QUANTILE = 90
"""A band's echo over its prediction is taken at this percentile (high: the echo's peaks)."""
EXCESS_DB = 15.0
"""A block holds a near-end talker when the bands above the echo predicted in them stand out
by this much, summed: one band well above its echo (a consonant's burst against the reply's
vowel), or many a little (a voice as loud as the echo, on top of it)."""
FAR_DB = -70.0
"""A far-end band quieter than this (dBFS) predicts no echo worth measuring the ERL on."""
QUIET_DB = -70.0
"""A microphone band quieter than this (dBFS) holds no one."""
DIRECT_BLOCKS = SPREAD[0] + SPREAD[1] + 1
"""Far-end blocks heard directly, in ``SPREAD``."""
WINDOW_BLOCKS = TAIL_BLOCKS + DIRECT_BLOCKS
"""Far-end blocks a block's echo is predicted from, oldest first (the direct ones last)."""
_AGE = np.maximum(TAIL_BLOCKS - np.arange(WINDOW_BLOCKS), 0).astype(np.float64)
"""Blocks by which each in a window is older than the direct sound (0: heard directly)."""
_DISCOUNT = np.stack(
    [np.where(_AGE > 0, 1e300, 0.0) if math.isinf(d) else d * _AGE for d in DECAYS_DB]
)[:, None, None, :]
"""What each model takes off each far-end block in a window before the loudest is taken
(an infinite decay: so much that the older blocks never are, and the direct sound is)."""
_ROOM_INDEX = np.arange(len(DECAYS_DB))[:, None]


class RoomModels:
    """``DECAYS_DB``'s models of the room: in each, the echo dies away that many dB per block
    after the direct sound. Each learns each band's ERL over its own predictions and judges
    blocks by them.

    Args:
        bands: Bands a block's levels have.
    """

    def __init__(self, bands: int) -> None:
        rooms = len(DECAYS_DB)
        self._erl = np.full((rooms, bands, ERL_BLOCKS), np.nan)
        """Each model's latest ``ERL_BLOCKS`` blocks of voiced alone: the microphone over the
        prediction per band (NaN: the far end too faint; unwritten ones too)."""
        self._erl_at = np.zeros(rooms, dtype=np.intp)
        """Where each model's next learnt block goes in ``_erl`` (a ring)."""
        self._erl_now = np.full((rooms, bands), np.nan)
        self._rows = np.arange(rooms * bands)
        self._reckoned = [False] * rooms
        """Whether each model has an ERL to judge by (in ``_erl_now``)."""
        self._verdicts = [_Verdicts() for _ in DECAYS_DB]
        self._scratch: dict[tuple[int, ...], np.ndarray] = {}
        self._learning: list[tuple[np.ndarray, np.ndarray | None]] = []
        """What each call since the last ``reckon`` learnt (rooms, blocks, bands), and which
        blocks were near-end (None: none): added to the rings when the ERL is reckoned."""

    def judge(self, heard: np.ndarray, played: np.ndarray) -> list[bool]:
        """Whether each block of ``heard`` (band levels, one row a block) holds a near-end
        talker, given the far end's band levels ``played`` before each (bands, blocks, the
        window: oldest first, the direct sound last), by the fastest-decaying model that fits
        (the slowest if none does); each model learns the ERL from those it takes for voiced
        alone."""
        fitting = [verdicts.fits() for verdicts in self._verdicts]
        discounted = self._scratch.get(played.shape)
        if discounted is None:  # allocated once: it is big, and AEC3 ran in between
            discounted = self._scratch[played.shape] = np.empty((len(DECAYS_DB), *played.shape))
        np.subtract(played, _DISCOUNT, out=discounted)
        predicted = np.empty((len(DECAYS_DB), *heard.shape))
        np.maximum.reduce(discounted, axis=3, out=predicted.transpose(0, 2, 1))
        over = heard - predicted
        if any(self._reckoned):
            excess = np.where(heard > QUIET_DB, over - self._erl_now[:, None, :], 0.0)
            near = np.fmax(excess, 0.0).sum(axis=2) > EXCESS_DB  # NaN never is
            verdicts: list[list[bool]] = near.tolist()  # none near-end without an ERL
            if not any(True in room_verdicts for room_verdicts in verdicts):
                near = None
        else:
            near, verdicts = None, [[False] * heard.shape[0]] * len(DECAYS_DB)
        self._learning.append((np.where(predicted > FAR_DB, over, np.nan), near))
        for room, reckoned in enumerate(self._reckoned):
            if reckoned:
                self._verdicts[room].extend(verdicts[room])
        for fits, room_verdicts in zip(fitting, verdicts, strict=True):
            if fits:
                return room_verdicts
        return verdicts[-1]

    def _learn(self) -> None:
        """Add each model's blocks of voiced alone learnt since the last time to its ring, in
        order (the latest ``ERL_BLOCKS`` of them)."""
        if not self._learning:
            return
        learnt = np.concatenate([learnt for learnt, _ in self._learning], axis=1)
        if all(near is None for _, near in self._learning):  # as mostly: all learn all
            alone = None
        else:
            alone = ~np.concatenate(
                [
                    np.zeros(rows.shape[:2], bool) if near is None else near
                    for rows, near in self._learning
                ],
                axis=1,
            )
        self._learning = []
        count = learnt.shape[1]
        if alone is None and count <= ERL_BLOCKS:
            at = (self._erl_at[:, None] + np.arange(count)) % ERL_BLOCKS
            self._erl[_ROOM_INDEX, :, at] = learnt
            self._erl_at = (self._erl_at + count) % ERL_BLOCKS
            return
        if alone is None:
            alone = np.ones(learnt.shape[:2], bool)
        order = np.cumsum(alone, axis=1)
        alone &= order > order[:, -1:] - ERL_BLOCKS  # each ring keeps its latest
        at = (self._erl_at[:, None] + order - 1) % ERL_BLOCKS
        rooms, blocks = np.nonzero(alone)
        self._erl[rooms, :, at[rooms, blocks]] = learnt[rooms, blocks]
        self._erl_at = (self._erl_at + order[:, -1]) % ERL_BLOCKS

    def reckon(self) -> None:
        """Each model's ERL per band from the blocks learnt (NaN for a band with fewer than
        ``ERL_LEAST`` of them: it never stands out); a model with no band that has enough
        judges nothing near-end."""
        self._learn()
        counts = np.count_nonzero(~np.isnan(self._erl), axis=2)
        rank = np.maximum(counts - 1, 0) * ERL_QUANTILE // 100
        learnt = np.sort(self._erl, axis=2).reshape(-1, ERL_BLOCKS)  # NaN sorts last
        erl = learnt[self._rows, rank.ravel()].reshape(counts.shape)
        erl[counts < ERL_LEAST] = np.nan
        self._erl_now = erl
        self._reckoned = np.any(counts >= ERL_LEAST, axis=1).tolist()


class _Verdicts:
    """One model's latest ``ERL_BLOCKS`` verdicts, telling whether the model fits."""

    def __init__(self) -> None:
        self._count = 0
        """Verdicts given."""
        self._near: deque[int] = deque()
        """The indices of those among the latest ``ERL_BLOCKS`` that took a block for a
        near-end talker, oldest first."""

    def extend(self, verdicts: list[bool]) -> None:
        """Add the verdicts on the newest blocks."""
        if True in verdicts:
            self._near.extend(self._count + i for i, near in enumerate(verdicts) if near)
        self._count += len(verdicts)
        while self._near and self._near[0] < self._count - ERL_BLOCKS:
            self._near.popleft()

    def fits(self) -> bool:
        """Whether it has judged enough blocks and took few of them for a near-end talker,
        leaving out the latest ``FIT_LAG`` (the user whose onset is being dated)."""
        judged = min(self._count, ERL_BLOCKS) - FIT_LAG
        if judged < ERL_LEAST:
            return False
        near = len(self._near)
        for index in reversed(self._near):
            if index < self._count - FIT_LAG:
                break
            near -= 1
        return near <= FITS * judged
