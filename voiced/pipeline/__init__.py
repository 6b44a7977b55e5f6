"""The turn pipeline: from the microphone's frames to the spoken reply.

One spoken turn, in six modules (read them in this order):

1. :mod:`~voiced.pipeline.core` — ``Pipeline._frame`` takes each 30 ms frame, feeds the
   segmenter (:mod:`voiced.listen.segmenter`, frames in, events out) and the wake word
   (:mod:`voiced.wake.detector`), and acts on what :class:`Utterances` returns.
2. :mod:`~voiced.pipeline.utterances` — turns the segmenter's events into the protocol's,
   decides whether an utterance may leave the machine (:mod:`~voiced.pipeline.addressing`,
   wake mode's privacy rule), starts speculation at the tentative end of speech, and returns
   ``Ended`` / ``Gone`` / ``BargeIn`` outcomes.
3. :mod:`~voiced.pipeline.speculation` — at the tentative end, transcribes at once and
   prepares the reply ahead with ``Conversation.prepare`` (the very request the turn will
   send), undone if the speaker goes on.
4. :mod:`~voiced.pipeline.hearing` — at the confirmed end, ``Pipeline._conclude`` asks
   ``Hearing.conclude``: the transcript (the speculative one when it still fits), the phantom
   filter, voiced's own echo, a tool confirmation's answer, the wake word taken off; the
   result is a ``Question`` or nothing.
5. :mod:`~voiced.pipeline.turns` — ``TurnRunner.start`` answers the question through the
   conversation (:mod:`voiced.converse`), one turn at a time, stoppable by a barge-in.
6. :mod:`~voiced.pipeline.speech` — the reply's deltas go to the clients and the speaker; the
   first clause is rendered early; the player (:mod:`voiced.audio.player`) plays it.

Every state change the pipeline makes goes through :mod:`~voiced.pipeline.states`, and it sees
its host (the daemon) only through the Protocols of :mod:`~voiced.pipeline.host`.

The rest: :mod:`~voiced.pipeline.assemble` builds all of it from the settings (microphone or
replayed file in, speaker or file out); :mod:`~voiced.pipeline.stages` has the stages'
Protocols and speech to text; :mod:`~voiced.pipeline.overspeech` holds a reply while speech
over it is judged, unless :mod:`~voiced.pipeline.aec` says the in-process echo canceller keeps
voiced's voice out of the microphone (then it stops at once); :mod:`~voiced.pipeline.judge`
spots voiced's own echo and the wake phrase;
:mod:`~voiced.pipeline.approval` asks before side effects; :mod:`~voiced.pipeline.prefetch` and
:mod:`~voiced.pipeline.metered` stream replies ahead and count their cost
(:mod:`~voiced.pipeline.costs`); :mod:`~voiced.pipeline.timeline` and
:mod:`~voiced.pipeline.clock` time a turn on the input's clock; :mod:`~voiced.pipeline.replay`
writes replay mode's files; :mod:`~voiced.pipeline.ends` opens the microphone and the voice;
:mod:`~voiced.pipeline.agentvoice` and :mod:`~voiced.pipeline.mcplink` serve ``voiced mcp``
and the MCP servers; :mod:`~voiced.pipeline.seed` reads the recent turns back.
"""
