"""Every benchmark of the product, in one place, one module per ``sitewatch bench`` mode:

- :mod:`~sitewatch.bench.engine`: the detection engine per stage next to the bare ``session.run``;
- :mod:`~sitewatch.bench.runtimes`: onnxruntime / OpenVINO, float / INT8 (``bench runtimes``);
- :mod:`~sitewatch.bench.gpu`: the PyTorch backend by batch size, and video decoding (``bench gpu``);
- :mod:`~sitewatch.bench.worker`: N cameras through the whole worker (``bench cameras``);
- :mod:`~sitewatch.bench.alerts`: the dispatcher and event-to-case latency (``bench alerts``);
- :mod:`~sitewatch.bench.ui`: the review page, the briefs and the district map at scale (``bench ui``;
  the map's seed is :mod:`~sitewatch.bench.map`);
- :mod:`~sitewatch.bench.api`: the central API's ingest and listing (``bench api``);
- :mod:`~sitewatch.bench.analysis`: the recurring-problem analysis on a seeded year (``bench analysis``).

Every result is rounded one way, :func:`detector.evaluation.figures.figures`; the command's front-end is
:mod:`sitewatch.cli.bench`.
"""
