"""Offline code that makes models, never imported by the runtime: reading YOLO datasets
(:mod:`~detector.training.dataset`), rebuilding training sets from their sources
(:mod:`~detector.training.trainsets`, with pseudo-labels from :mod:`~detector.training.pseudolabels` and
test pictures kept out by :mod:`~detector.training.duplicates`), fine-tuning YOLO
(:mod:`~detector.training.train`), the head classifier's patches and trainer
(:mod:`~detector.training.headsets`, :mod:`~detector.training.head_train`) and INT8 quantisation
(:mod:`~detector.training.quantize`). Most of it needs the ``train`` extra.
"""
