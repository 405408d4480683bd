"""The detection engine: YOLO on onnxruntime, PPE association, the smoking stage and faces.

``detector`` knows nothing of cameras or servers: it turns images into
:class:`supervision.Detections` and people with their safety attributes. Being the bottom layer, it
also holds the vocabulary every package shares, without heavy dependencies: the event kinds
(:mod:`detector.kinds`) and the wire format of an event update (:mod:`detector.wire`).

The runtime is this package's modules and :mod:`detector.backends`; the offline code that makes and
measures models is in :mod:`detector.training` and :mod:`detector.evaluation`, which the runtime never
imports (``tests/test_imports.py`` checks it).
"""
