"""Offline code that measures models, never imported by the runtime: mAP on a YOLO dataset
(:mod:`~detector.evaluation.evaluate`, scored by :mod:`~detector.evaluation.average_precision` as
ultralytics ``val`` does), what a supervisor would see at the operating point
(:mod:`~detector.evaluation.alarms`), and how every benchmark rounds the figures it reports
(:mod:`~detector.evaluation.figures`).
"""
