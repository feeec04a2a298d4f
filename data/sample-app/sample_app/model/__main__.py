"""``python -m sample_app.model``: serve the model on 0.0.0.0:$PORT with weights from $WEIGHTS_DIR."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from .. import config
from .network import WEIGHTS_FILE
from .server import create_app


def main() -> None:
    import uvicorn

    settings = config.load_or_exit()
    weights = Path(settings.weights_dir) / WEIGHTS_FILE
    if not weights.is_file():
        # one line, so `kubectl logs` of a pod in CrashLoopBackOff says what is wrong
        sys.exit(
            f"sample_app.model: no weights at {weights} (WEIGHTS_DIR={settings.weights_dir}); "
            f"train them with `python -m sample_app.model.train --out {settings.weights_dir}` "
            "or mount the volume that holds them."
        )
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    uvicorn.run(create_app(settings.weights_dir, settings.device), host="0.0.0.0", port=settings.port, log_level="info")


if __name__ == "__main__":
    main()
