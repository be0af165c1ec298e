"""``zoo serve``: models behind HTTP, speaking TF Serving's REST API and the Open Inference
Protocol (KServe V2), with dynamic batching on the engine zoo picks (``docs/serving.md``)."""
