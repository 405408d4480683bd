"""The detection engine: YOLO on onnxruntime, PPE association, the smoking stage and faces.

``detector`` knows nothing of cameras or servers: it turns images into
:class:`supervision.Detections` and people with their safety attributes.
"""
