"""What ``explainimg demo`` runs: the real-weights demo (:mod:`.run`), the bundled toy model and
its generated shapes (:mod:`.toy`, :mod:`.shapes`) and the model zoo (:mod:`.zoo`).

May import the public entry points and the formatters; the library never imports it, except
the command line.
"""
