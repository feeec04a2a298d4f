"""The model service's HTTP side: ``GET /info``, ``POST /predict``, ``GET /healthz``.

The weights load in the background after the port opens, and every route but /healthz answers 503
until they are in memory: with a real model (gigabytes read from a volume and copied to the GPU)
that takes minutes, and the readiness probe keeps traffic away until it is done.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .. import __version__
from ..pixels import BadPixels, pixels_from_json
from .network import INFO_FILE, choose_xp, forward, load_weights

STANDS_IN_FOR = "yolo (poses) and whisper (speech)"
log = logging.getLogger("sample_app.model")


class LoadedModel:
    """Weights on a device, and what info.json says about them."""

    def __init__(self, weights_dir: str, device: str) -> None:
        self.xp: ModuleType
        self.xp, self.device = choose_xp(device)
        self.weights = load_weights(weights_dir, self.xp)
        info_path = Path(weights_dir) / INFO_FILE
        self.info: dict[str, Any] = json.loads(info_path.read_text()) if info_path.is_file() else {}

    def predict(self, pixels: list[float]) -> dict[str, Any]:
        x = self.xp.asarray([pixels], dtype=self.xp.float32)
        _hidden, probs = forward(self.xp, self.weights, x)
        # back to the host: cupy.asnumpy copies from the GPU, numpy has nothing to copy
        row = np.asarray(getattr(self.xp, "asnumpy", np.asarray)(probs[0]), dtype=float)
        label = int(row.argmax())
        return {
            "label": label,
            "confidence": round(float(row[label]), 6),
            "probabilities": [round(float(p), 6) for p in row],
            "model": self.name,
        }

    @property
    def name(self) -> str:
        return str(self.info.get("model", "digits"))


def create_app(weights_dir: str, device: str = "auto", *, load_in_background: bool = True) -> Starlette:
    """The service; it loads ``weights_dir`` on start-up (in a thread unless told otherwise)."""
    state: dict[str, LoadedModel] = {}

    def load() -> None:
        try:
            state["model"] = LoadedModel(weights_dir, device)
        except Exception as exc:
            # a model service without its model is no use: stop, and let the log say why
            log.critical("cannot load the model: %s", exc)
            os._exit(1)
        log.info("model %s loaded on %s", state["model"].name, state["model"].device)

    def not_ready() -> JSONResponse:
        return JSONResponse({"ok": False, "error": f"the model is still loading from {weights_dir}"}, status_code=503)

    def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True}) if "model" in state else not_ready()

    def info(request: Request) -> JSONResponse:
        if "model" not in state:
            return not_ready()
        model = state["model"]
        return JSONResponse(
            {
                "model": model.name,
                "classes": int(model.info.get("classes", 10)),
                "accuracy": float(model.info.get("accuracy", float("nan"))),
                "test_samples": int(model.info.get("test_samples", 0)),
                "weights_bytes": int(model.info.get("weights_bytes", 0)),
                "device": model.device,
                "stands_in_for": STANDS_IN_FOR,
                "version": __version__,
            }
        )

    async def predict(request: Request) -> JSONResponse:
        if "model" not in state:
            return not_ready()
        try:
            pixels = pixels_from_json(await request.body())
        except BadPixels as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(state["model"].predict(pixels))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if load_in_background:
            threading.Thread(target=load, name="load-weights", daemon=True).start()
        else:
            load()
        yield

    routes = [Route("/healthz", healthz), Route("/info", info), Route("/predict", predict, methods=["POST"])]
    return Starlette(routes=routes, lifespan=lifespan)
