"""Auditing a model over many labelled images: the numbers (:mod:`.summary`, NumPy only) and
explaining the predicted and the true class in one pass (:mod:`.explain`).

``summary`` may import the data layer and metrics only; ``explain`` adds the explainer.
The page itself is a formatter (:mod:`explainimg.formatters.audit_html`).
"""
