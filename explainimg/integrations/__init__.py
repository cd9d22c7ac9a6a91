"""explainimg inside other frameworks: Ray Data (:mod:`.ray_data`).

Each module imports its framework itself, so that installing an extra is only needed for the
integration that is used. May import the explainer and the pipeline.
"""
