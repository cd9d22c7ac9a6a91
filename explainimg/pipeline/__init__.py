"""Files in, run folders out: everything behind ``explainimg explain``. Reading image, label
and box files, streaming results to JSON Lines, NPZ shards, overlays and reports, resuming a
killed run, writing every file atomically.

May import anything below it (inputs, the explainer, audit, formatters); nothing but the
command line, the integrations and the training callback
(its atomic writes) import it.
"""
