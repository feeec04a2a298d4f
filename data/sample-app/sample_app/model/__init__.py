"""The model service: a small neural network that reads 8x8 handwritten digits.

It stands in for the project's model services (yolo for poses, whisper for speech): weights read
from a mounted volume at start, ``GET /info`` and ``POST /predict``, NumPy on a CPU and the same
code on a GPU through CuPy. ``python -m sample_app.model`` serves it;
``python -m sample_app.model.train --out DIR`` writes its weights.
"""
