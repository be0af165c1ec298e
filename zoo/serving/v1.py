"""TF Serving's REST API (also KServe V1), as ``tensorflow_serving/g3doc/api_rest.md`` has it.

- ``GET /v1/models/NAME[/versions/V]``: ``{"model_version_status": [...]}``
- ``GET /v1/models/NAME[/versions/V]/metadata``: the ``serving_default`` signature
- ``POST /v1/models/NAME[/versions/V]:predict``: ``{"signature_name"?, "instances": [...]}`` (row
  format, answered ``{"predictions": [...]}``) or ``{"inputs": ...}`` (columnar, answered
  ``{"outputs": ...}``); an instance is a nested list of pixels (H x W x C, 0..255), an encoded
  image as ``{"b64": "..."}``, or an object naming the input (``{"images": ...}``,
  ``{"image_bytes": {"b64": ...}}``). Each prediction is the probability of every class.
- ``POST /v1/models/NAME[/versions/V]:classify``: ``{"examples": [{"image": ...}, ...]}``,
  answered ``{"result": [[[label, score], ...], ...]}`` (the top classes of each example).
- Errors: ``{"error": "..."}``. A request with some bad instances is a 400 naming each, and
  still carries the answers of the others (``null`` in the place of each bad one).

Example:
    >>> instances(json.loads('{"instances": [{"b64": "iVBORw0..."}]}'))
    ([Instance(encoded=b'\\x89PNG...')], 'row')
"""

from __future__ import annotations

from typing import Any

from zoo.serving.instances import Instance, RequestError, from_b64, from_pixels

SIGNATURE = "serving_default"
#: The input names a named instance may use: pixels, or an encoded image.
PIXEL_INPUT, BYTES_INPUT = "images", "image_bytes"


def one_instance(value: Any, where: str) -> Instance:
    """One instance of a request: pixels, ``{"b64"}``, or an object naming the input."""
    if isinstance(value, dict):
        if set(value) == {"b64"}:
            return from_b64(value["b64"], where)
        if len(value) != 1:
            return Instance(
                error=f"{where}: an instance object names one input ({PIXEL_INPUT} or "
                f"{BYTES_INPUT}), received {sorted(value)}"
            )
        ((name, inner),) = value.items()
        if name not in (PIXEL_INPUT, BYTES_INPUT):
            return Instance(
                error=f"{where}: unknown input {name!r}; inputs: {PIXEL_INPUT}, {BYTES_INPUT}"
            )
        return one_instance(inner, where)
    if isinstance(value, list):
        return from_pixels(value, where)
    return Instance(
        error=f'{where}: expected pixels (a nested list) or {{"b64": ...}}, received '
        f"{type(value).__name__}"
    )


def check_signature(body: dict[str, Any]) -> None:
    name = body.get("signature_name", SIGNATURE)
    if name != SIGNATURE:
        raise RequestError(400, f'Serving signature name: "{name}" not found in signature def')


def instances(body: Any) -> tuple[list[Instance], str]:
    """The instances of a ``:predict`` body and its format (``row`` or ``columnar``).

    Raises:
        RequestError: 400 for a body that is not a predict request.
    """
    if not isinstance(body, dict):
        raise RequestError(400, "the body must be a JSON object with instances or inputs")
    check_signature(body)
    if ("instances" in body) == ("inputs" in body):
        raise RequestError(400, 'the body must hold exactly one of "instances" or "inputs"')
    kind = "row" if "instances" in body else "columnar"
    values = body["instances"] if kind == "row" else body["inputs"]
    if kind == "columnar" and isinstance(values, dict):  # {"images": [...]}: one named input
        if len(values) != 1 or next(iter(values)) not in (PIXEL_INPUT, BYTES_INPUT):
            raise RequestError(
                400,
                f"inputs names one input ({PIXEL_INPUT} or {BYTES_INPUT}), "
                f"received {sorted(values)}",
            )
        values = next(iter(values.values()))
    if not isinstance(values, list):
        raise RequestError(400, f"{kind} {('instances', 'inputs')[kind == 'columnar']} must be "
                           f"a list, received {type(values).__name__}")  # fmt: skip
    return [one_instance(value, f"instance {i}") for i, value in enumerate(values)], kind


def examples(body: Any) -> list[Instance]:
    """The examples of a ``:classify`` body, each one feature holding an image.

    Raises:
        RequestError: 400 for a body that is not a classify request.
    """
    if not isinstance(body, dict) or not isinstance(body.get("examples"), list):
        raise RequestError(400, 'the body must be a JSON object with a list of "examples"')
    check_signature(body)
    found = []
    for index, example in enumerate(body["examples"]):
        where = f"example {index}"
        if not isinstance(example, dict) or len(example) != 1:
            found.append(Instance(error=f"{where}: an example is an object with one feature"))
            continue
        found.append(one_instance(next(iter(example.values())), where))
    return found


def predict_answer(results: list, kind: str) -> dict[str, Any]:
    """``{"predictions": [...]}`` (row) or ``{"outputs": [...]}`` (columnar)."""
    rows = [None if row is None else [round(float(p), 7) for p in row] for row in results]
    return {"predictions" if kind == "row" else "outputs": rows}


def classify_answer(served, results: list, k: int) -> dict[str, Any]:
    """``{"result": [[[label, score], ...], ...]}``, the top ``k`` classes per example."""
    return {
        "result": [
            None
            if row is None
            else [[entry["label"], entry["score"]] for entry in served.ranked(row, k)]
            for row in results
        ]
    }


def status(served, version: str | None) -> dict[str, Any]:
    """``GET /v1/models/NAME``'s answer."""
    from zoo.serving.served import VERSION

    return {
        "model_version_status": [
            {
                "version": VERSION,
                "state": "AVAILABLE" if served.ready else "LOADING",
                "status": {"error_code": "OK", "error_message": ""},
            }
        ]
    }


def metadata(served) -> dict[str, Any]:
    """``GET /v1/models/NAME/metadata``'s answer: the one signature's inputs and outputs."""
    from zoo.serving.served import VERSION

    def shape(*dims: int) -> dict[str, Any]:
        return {"dim": [{"size": str(d), "name": ""} for d in dims], "unknown_rank": False}

    return {
        "model_spec": {"name": served.name, "signature_name": "", "version": VERSION},
        "metadata": {
            "signature_def": {
                "signature_def": {
                    SIGNATURE: {
                        "inputs": {
                            PIXEL_INPUT: {
                                "dtype": "DT_UINT8",
                                "tensor_shape": shape(-1, *served.input_shape),
                                "name": PIXEL_INPUT,
                            },
                            BYTES_INPUT: {
                                "dtype": "DT_STRING",
                                "tensor_shape": shape(-1),
                                "name": BYTES_INPUT,
                            },
                        },
                        "outputs": {
                            "probabilities": {
                                "dtype": "DT_FLOAT",
                                "tensor_shape": shape(-1, len(served.names)),
                                "name": "probabilities",
                            }
                        },
                        "method_name": "tensorflow/serving/predict",
                    }
                }
            }
        },
    }
