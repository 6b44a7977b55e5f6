"""Loading a wake-word model into pymicro-wakeword, after TensorFlow Lite has verified it.

pymicro-wakeword hands whatever TensorFlow Lite returns to the next call without checking it:
a corrupt model gives a NULL model, and the process dies with a segmentation fault inside
``TfLiteInterpreterAllocateTensors``. So the model goes through the library's own FlatBuffer
verifier and a trial interpreter first (through ctypes, errors captured instead of printed),
and only a model that passes reaches ``MicroWakeWord``.
"""

from __future__ import annotations

import ctypes
import os
import re
from collections.abc import Callable
from pathlib import Path

from pymicro_wakeword import MicroWakeWord

from voiced.config.wakemodel import WakeModel, package_dir
from voiced.errors import ConfigError

FEATURES = 40
"""Values in one feature frame of the microWakeWord front end."""
_QUANTIZED = {3, 9}
"""TfLiteType of uint8 and int8: the tensor types pymicro-wakeword reads and writes."""
_Reporter = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p)


def library_path() -> Path:
    """The TensorFlow Lite C library bundled in the pymicro-wakeword wheel.

    Raises:
        ConfigError: pymicro-wakeword or its library is missing.
    """
    folder = package_dir()
    found = sorted((folder / "lib").glob("*tensorflowlite_c.*")) if folder else []
    if not found:
        raise ConfigError(
            "the TensorFlow Lite library of pymicro-wakeword is missing",
            "reinstall voiced: pip install -e .",
        )
    return found[0]


def _library() -> ctypes.CDLL:
    lib = ctypes.CDLL(str(library_path()), mode=os.RTLD_GLOBAL)
    vp, i32 = ctypes.c_void_p, ctypes.c_int32
    signatures: dict[str, tuple[list[object], object]] = {
        "TfLiteModelCreateWithErrorReporter": (
            [ctypes.c_char_p, ctypes.c_size_t, _Reporter, vp],
            vp,
        ),
        "TfLiteModelDelete": ([vp], None),
        "TfLiteInterpreterOptionsCreate": ([], vp),
        "TfLiteInterpreterOptionsSetErrorReporter": ([vp, _Reporter, vp], None),
        "TfLiteInterpreterOptionsDelete": ([vp], None),
        "TfLiteInterpreterCreate": ([vp, vp], vp),
        "TfLiteInterpreterDelete": ([vp], None),
        "TfLiteInterpreterAllocateTensors": ([vp], ctypes.c_int),
        "TfLiteInterpreterGetInputTensorCount": ([vp], i32),
        "TfLiteInterpreterGetOutputTensorCount": ([vp], i32),
        "TfLiteInterpreterGetInputTensor": ([vp, i32], vp),
        "TfLiteInterpreterGetOutputTensor": ([vp, i32], vp),
        "TfLiteTensorType": ([vp], ctypes.c_int),
        "TfLiteTensorNumDims": ([vp], i32),
        "TfLiteTensorDim": ([vp, i32], i32),
        "TfLiteTensorByteSize": ([vp], ctypes.c_size_t),
    }
    for name, (args, result) in signatures.items():
        function = getattr(lib, name)
        function.argtypes = args
        function.restype = result
    return lib


def verify(path: Path) -> None:
    """Have TensorFlow Lite verify the model and build a trial interpreter for it.

    Raises:
        ConfigError: The file is not a valid model, or not one shaped like a microWakeWord
            streaming model (one quantized input of N×40 features, one quantized output).
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the wake-word model: {exc.strerror}") from None
    lib = _library()
    said: list[str] = []
    reporter = _Reporter(_collect(said))
    model = lib.TfLiteModelCreateWithErrorReporter(data, len(data), reporter, None)
    if not model:
        raise _invalid(path, said, "TensorFlow Lite could not read it")
    options = interpreter = None
    try:
        options = lib.TfLiteInterpreterOptionsCreate()
        lib.TfLiteInterpreterOptionsSetErrorReporter(options, reporter, None)
        interpreter = lib.TfLiteInterpreterCreate(model, options)
        if not interpreter:
            raise _invalid(path, said, "TensorFlow Lite cannot run it")
        if lib.TfLiteInterpreterAllocateTensors(interpreter) != 0:
            raise _invalid(path, said, "TensorFlow Lite cannot allocate its tensors")
        _check_shape(lib, interpreter, path)
    finally:
        if interpreter:
            lib.TfLiteInterpreterDelete(interpreter)
        if options:
            lib.TfLiteInterpreterOptionsDelete(options)
        lib.TfLiteModelDelete(model)
        del data  # the model reads from this buffer until it is deleted


def _check_shape(lib: ctypes.CDLL, interpreter: int, path: Path) -> None:
    if (
        lib.TfLiteInterpreterGetInputTensorCount(interpreter) != 1
        or lib.TfLiteInterpreterGetOutputTensorCount(interpreter) != 1
    ):
        raise _invalid(path, [], "it needs exactly one input and one output")
    tensor = lib.TfLiteInterpreterGetInputTensor(interpreter, 0)
    output = lib.TfLiteInterpreterGetOutputTensor(interpreter, 0)
    if not tensor or not output:
        raise _invalid(path, [], "its input or output is missing")
    dims = [lib.TfLiteTensorDim(tensor, i) for i in range(lib.TfLiteTensorNumDims(tensor))]
    if len(dims) != 3 or dims[0] != 1 or dims[1] < 1 or dims[2] != FEATURES:
        raise _invalid(path, [], f"its input is {dims}, not [1, steps, {FEATURES}] features")
    if lib.TfLiteTensorType(tensor) not in _QUANTIZED or (
        lib.TfLiteTensorType(output) not in _QUANTIZED
    ):
        raise _invalid(path, [], "its input and output must be int8 or uint8 (quantized)")
    if lib.TfLiteTensorByteSize(output) != 1:
        raise _invalid(path, [], "its output must be one probability")


def load(model: WakeModel) -> MicroWakeWord:
    """Verify ``model`` and load it into a ``MicroWakeWord`` (about 1 ms for a bundled one).

    Raises:
        ConfigError: The model fails verification (the message names the file).
    """
    verify(model.tflite)
    return MicroWakeWord(
        model.name,
        wake_word=model.phrase,
        tflite_model=model.tflite,
        probability_cutoff=model.cutoff,
        sliding_window_size=model.window,
        trained_languages=list(model.languages),
        libtensorflowlite_c_path=library_path(),
    )


def _collect(said: list[str]) -> Callable[[int | None, bytes | None, int | None], None]:
    def report(user_data: int | None, text: bytes | None, args: int | None) -> None:
        if text:  # a printf format: its arguments are not read, so placeholders are dropped
            said.append(re.sub(rb"%[-+ #0-9.]*[a-zA-Z]", b"...", text).decode(errors="replace"))

    return report


def _invalid(path: Path, said: list[str], what: str) -> ConfigError:
    detail = f": {said[-1].strip()}" if said else ""
    return ConfigError(
        f"{path}: not a usable wake-word model ({what}{detail})",
        "the file is damaged or not a microWakeWord model: get or train it again",
    )
