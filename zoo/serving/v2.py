"""The Open Inference Protocol (KServe V2; what Triton, MLServer and KServe speak), REST, as
``kserve/open-inference-protocol`` ``specification/protocol/inference_rest.md`` has it.

- ``GET /v2``: the server's name, version and extensions; ``GET /v2/health/live``,
  ``/v2/health/ready``, ``/v2/models/NAME[/versions/V]/ready``: 200, or 400 when not (empty
  bodies, as the protocol says)
- ``GET /v2/models/NAME[/versions/V]``: inputs ``images`` (UINT8 ``[-1, H, W, C]``; FP32
  taken too) and ``image_bytes`` (BYTES ``[-1]``: encoded images, base64 strings in JSON), output
  ``probabilities`` (FP32 ``[-1, classes]``)
- ``POST /v2/models/NAME[/versions/V]/infer``: ``{"id"?, "inputs": [{"name", "shape",
  "datatype", "data"}], "outputs"?: [{"name", "parameters"?}]}``, answered ``{"model_name",
  "model_version", "id", "outputs": [...]}``; with ``"parameters": {"classification": k}`` on the
  output (Triton's classification extension) its data are ``"score:index:label"`` strings, the
  top ``k`` of each image
- Errors: ``{"error": "..."}``; a request with some bad images is a 400 naming each, with the
  outputs of the others and ``"parameters": {"failed": [indices]}``.

Example:
    >>> instances(served, {"inputs": [{"name": "images", "shape": [1, 28, 28, 1],
    ...                                 "datatype": "UINT8", "data": [0] * 784}]})
"""

from __future__ import annotations

from typing import Any

import numpy as np

from zoo.serving.instances import Instance, RequestError, from_b64
from zoo.serving.v1 import BYTES_INPUT, PIXEL_INPUT

OUTPUT = "probabilities"
#: The datatypes pixels may come in, as NumPy types.
PIXEL_TYPES = {
    "UINT8": np.uint8,
    "UINT16": np.uint16,
    "INT8": np.int8,
    "INT16": np.int16,
    "INT32": np.int32,
    "INT64": np.int64,
    "FP16": np.float16,
    "FP32": np.float32,
    "FP64": np.float64,
}
#: At most this many numbers in one tensor (a 20 MB body cannot hold more anyway).
MOST_ELEMENTS = 64 * 1024 * 1024


def server_metadata() -> dict[str, Any]:
    from zoo.version import __version__

    return {"name": "zoo", "version": __version__, "extensions": ["classification"]}


def model_metadata(served) -> dict[str, Any]:
    from zoo.serving.served import VERSION

    return {
        "name": served.name,
        "versions": [VERSION],
        "platform": f"zoo_{served.runner.name}" if served.runner is not None else "zoo",
        "inputs": [
            {"name": PIXEL_INPUT, "datatype": "UINT8", "shape": [-1, *served.input_shape]},
            {"name": BYTES_INPUT, "datatype": "BYTES", "shape": [-1]},
        ],
        "outputs": [{"name": OUTPUT, "datatype": "FP32", "shape": [-1, len(served.names)]}],
    }


def _shape(tensor: dict[str, Any], where: str) -> list[int]:
    shape = tensor.get("shape")
    if (
        not isinstance(shape, list)
        or not shape
        or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)
    ):
        raise RequestError(400, f"{where}: shape must be a list of non-negative integers, "
                           f"received {shape!r}")  # fmt: skip
    if int(np.prod(shape, dtype=np.int64)) > MOST_ELEMENTS:
        raise RequestError(400, f"{where}: shape {shape} is too large")
    return shape


def _flat(data: Any, where: str) -> list:
    """``data`` flattened (the protocol sends it flat in row-major order; nested is taken)."""
    if not isinstance(data, list):
        raise RequestError(400, f"{where}: data must be a list, received {type(data).__name__}")
    if data and isinstance(data[0], list):
        flat: list = []
        stack = [iter(data)]
        while stack:
            for item in stack[-1]:
                if isinstance(item, list):
                    stack.append(iter(item))
                    break
                flat.append(item)
            else:
                stack.pop()
        return flat
    return data


def _pixel_instances(tensor: dict[str, Any], shape: list[int], where: str) -> list[Instance]:
    datatype = tensor.get("datatype")
    if datatype not in PIXEL_TYPES:
        raise RequestError(
            400, f"{where}: datatype {datatype!r} is not one pixels come in; valid: "
            + ", ".join(PIXEL_TYPES) + f" (or BYTES for {BYTES_INPUT})"
        )  # fmt: skip
    data = _flat(tensor.get("data"), where)
    count = int(np.prod(shape, dtype=np.int64))
    if len(data) != count:
        raise RequestError(
            400, f"{where}: shape {shape} holds {count} numbers, data has {len(data)}"
        )
    try:
        array = np.asarray(data)
    except (TypeError, ValueError):  # ragged, or not numbers
        array = np.asarray([], dtype=object)
    if array.dtype.kind not in "iuf" and count:
        raise RequestError(400, f"{where}: {datatype} data must be numbers")
    array = array.astype(np.float32).reshape(shape)
    if len(shape) < 2:
        raise RequestError(400, f"{where}: pixels are [N, H, W, C], received shape {shape}")
    return [Instance(pixels=image) for image in array]


def _bytes_instances(tensor: dict[str, Any], shape: list[int], where: str) -> list[Instance]:
    if tensor.get("datatype") != "BYTES":
        raise RequestError(
            400, f"{where}: {BYTES_INPUT} is BYTES, received {tensor.get('datatype')!r}"
        )
    data = _flat(tensor.get("data"), where)
    if len(shape) != 1 or shape[0] != len(data):
        raise RequestError(400, f"{where}: BYTES shape must be [{len(data)}], received {shape}")
    return [
        from_b64(value["b64"] if isinstance(value, dict) and "b64" in value else value,
                 f"instance {index}")
        for index, value in enumerate(data)
    ]  # fmt: skip


def instances(body: Any) -> list[Instance]:
    """The images of an ``/infer`` body.

    Raises:
        RequestError: 400 for anything the protocol or the model does not take.
    """
    if not isinstance(body, dict) or not isinstance(body.get("inputs"), list):
        raise RequestError(400, 'the body must be a JSON object with a list of "inputs"')
    if len(body["inputs"]) != 1:
        raise RequestError(
            400, f"give one input, {PIXEL_INPUT} or {BYTES_INPUT}; received "
            f"{len(body['inputs'])}"
        )  # fmt: skip
    tensor = body["inputs"][0]
    if not isinstance(tensor, dict):
        raise RequestError(400, "an input is an object with name, shape, datatype and data")
    name = tensor.get("name")
    where = f"input {name!r}"
    shape = _shape(tensor, where)
    if name == PIXEL_INPUT:
        return _pixel_instances(tensor, shape, where)
    if name == BYTES_INPUT:
        return _bytes_instances(tensor, shape, where)
    raise RequestError(400, f"unknown input {name!r}; inputs: {PIXEL_INPUT} (UINT8 or FP32 "
                       f"[N, H, W, C]), {BYTES_INPUT} (BYTES [N])")  # fmt: skip


def classification(body: dict[str, Any]) -> int | None:
    """The ``classification`` count asked of the output, or None for probabilities.

    Raises:
        RequestError: 400 for an unknown output or a bad count.
    """
    outputs = body.get("outputs")
    if outputs is None:
        return None
    if not isinstance(outputs, list) or len(outputs) != 1 or not isinstance(outputs[0], dict):
        raise RequestError(400, f"outputs is a list of one output, {OUTPUT}")
    if outputs[0].get("name") != OUTPUT:
        raise RequestError(400, f"unknown output {outputs[0].get('name')!r}; outputs: {OUTPUT}")
    count = (outputs[0].get("parameters") or {}).get("classification")
    if count is None:
        return None
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise RequestError(400, f"classification must be a positive integer, received {count!r}")
    return count


def infer_answer(served, body: dict[str, Any], results: list, k: int | None) -> dict[str, Any]:
    """The ``/infer`` answer for the instances that were answered (``results`` None where an
    instance failed: its index is in ``parameters.failed``)."""
    from zoo.serving.served import VERSION

    rows = [row for row in results if row is not None]
    if k is None:
        output = {
            "name": OUTPUT,
            "datatype": "FP32",
            "shape": [len(rows), len(served.names)],
            "data": [round(float(p), 7) for row in rows for p in row],
        }
    else:
        k = min(k, len(served.names))
        output = {
            "name": OUTPUT,
            "datatype": "BYTES",
            "shape": [len(rows), k],
            "data": [
                f"{entry['score']:f}:{entry['index']}:{entry['label']}"
                for row in rows
                for entry in served.ranked(row, k)
            ],
        }
    answer = {"model_name": served.name, "model_version": VERSION, "outputs": [output]}
    if "id" in body:
        answer["id"] = body["id"]
    failed = [index for index, row in enumerate(results) if row is None]
    if failed:
        answer["parameters"] = {"failed": failed}
    return answer
