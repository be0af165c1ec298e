"""``python -m zoo.bench.naive_server PORT MODEL``: the server a user writes by hand, the
yardstick of ``zoo bench --serve``: a Starlette app (what FastAPI is built on) whose endpoint
decodes the upload as zoo does and calls Keras' ``model.predict`` on it, one request at a time
per thread (uvicorn runs a sync endpoint in its thread pool). No batching, no faster engine.

Example:
    $ python -m zoo.bench.naive_server 8081 mobilenet_v2_1.0_224
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    import numpy as np
    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from zoo import registry
    from zoo.backend import quiet_tensorflow
    from zoo.inputs.sources import prepare_file
    from zoo.models import load

    port, name = int(argv[0]), argv[1]
    quiet_tensorflow()
    spec = registry.get_spec(name)
    model = load(spec, weights=None)
    model.predict(np.zeros((1, *spec.input_shape), np.float32), verbose=0)

    def predict(request):
        import anyio.from_thread

        data = anyio.from_thread.run(request.body)
        x = prepare_file(spec, "upload", data=data)[np.newaxis].astype(np.float32)
        probabilities = model.predict(x, verbose=0)[0]
        return JSONResponse({"top": int(probabilities.argmax())})

    async def ready(request):
        return JSONResponse({})

    app = Starlette(routes=[Route("/predict", predict, methods=["POST"]), Route("/ready", ready)])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
