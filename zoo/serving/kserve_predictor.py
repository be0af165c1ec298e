"""zoo's served models as a KServe custom predictor (``kserve.Model`` under KServe's own
``ModelServer``), for a KServe ``InferenceService`` (docs/serving.md).

KServe's server routes the requests itself (its V1 ``/v1/models/NAME:predict`` and its V2
``/v2/models/NAME/infer``), parses the bodies, and hands them to ``predict``; zoo reads the
instances, decodes and batches them exactly as ``zoo serve`` does, and answers in the same
shapes. What only ``zoo serve``'s own server has: TF Serving's status and metadata routes,
``:classify``, ``:predict-image``, the web page, the API key and body limit (a cluster puts
those in its ingress). ``zoo bench --serve`` measures the two servers side by side.

Example:
    $ python -m zoo.serving.kserve_predictor mobilenet_v2_1.0_224 --http-port 8080
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from zoo.serving import v1, v2
from zoo.serving.app import ServeOptions
from zoo.serving.instances import RequestError, error_text, run_instances
from zoo.serving.served import ServedModel


def predictor_class() -> type:
    """The ``kserve.Model`` subclass (made on first use: KServe is imported only here)."""
    import kserve
    from kserve.errors import InvalidInput

    class ZooPredictor(kserve.Model):
        def __init__(self, served: ServedModel, options: ServeOptions):
            super().__init__(served.name)
            self.served, self.options = served, options
            self.pool = ThreadPoolExecutor(options.decode_threads or None)

        def load(self) -> bool:
            self.served.start(
                max_batch=self.options.max_batch,
                timeout=self.options.batch_timeout_ms / 1000,
                max_queue=self.options.max_queue,
            )
            self.ready = True
            return True

        async def predict(self, payload: Any, headers: dict | None = None) -> Any:
            try:
                if isinstance(payload, dict):  # V1: TF Serving's body
                    found, kind = v1.instances(payload)
                    results, errors = await run_instances(self.served, found, self.pool)
                    answer = v1.predict_answer(results, kind)
                else:  # V2: KServe's parsed InferRequest, as the JSON body it came from
                    from kserve.protocol.infer_type import InferResponse

                    body, _ = payload.to_rest()
                    found = v2.instances(body)
                    k = v2.classification(body)
                    results, errors = await run_instances(self.served, found, self.pool)
                    answer = InferResponse.from_rest(v2.infer_answer(self.served, body, results, k))
            except RequestError as error:
                raise InvalidInput(error.message) from None
            if errors:
                raise InvalidInput(error_text(errors, len(found)))
            return answer

    return ZooPredictor


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="+", help="registry names or run directories")
    parser.add_argument("--http-port", type=int, default=8080)
    parser.add_argument("--weights", default="default")
    parser.add_argument("--runtime", default=None)
    parser.add_argument("--max-batch", type=int, default=32)
    parser.add_argument("--batch-timeout-ms", type=float, default=5.0)
    parser.add_argument("--max-queue", type=int, default=256)
    args = parser.parse_args(argv)
    import kserve

    options = ServeOptions(args.max_batch, args.batch_timeout_ms, args.max_queue)
    predictor = predictor_class()
    models = []
    for source in args.models:
        served = ServedModel.open(source, runtime=args.runtime, weights=args.weights)
        model = predictor(served, options)
        model.load()
        models.append(model)
    kserve.ModelServer(http_port=args.http_port, enable_grpc=False).start(models)
    return 0


if __name__ == "__main__":
    sys.exit(main())
