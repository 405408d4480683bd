"""The runtimes that run a YOLO detector model, behind one interface.

:mod:`~detector.backends.interface` declares what every backend offers (:class:`DetectorBackend`, its
options and its registry); :mod:`~detector.backends.factory` makes one by name or from a model file's
suffix; one module per runtime implements it: :mod:`~detector.backends.onnx_runtime` (onnxruntime, the
default), :mod:`~detector.backends.openvino_runtime` (OpenVINO), :mod:`~detector.backends.torch_runtime`
(PyTorch, for GPUs) and :mod:`~detector.backends.ultralytics_runtime` (ultralytics ``.pt`` checkpoints).
"""
