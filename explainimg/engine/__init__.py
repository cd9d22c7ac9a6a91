"""Model surgery without surgery: what kind of model this is (:mod:`.kinds`), which layer and
output to explain (:mod:`.anatomy`), watching layer calls (:mod:`.interception`), and the
compiled gradient functions (:mod:`.compiled`, one backend module each), and TensorBoard
event files (:mod:`.summaries`, for the training callback).

The only package that knows the Keras backend and imports TensorFlow, JAX or PyTorch. May
import ``errors`` and the methods it runs; never the formatters, inputs or pipeline. Nothing
here changes the user's model: layers are run on real tensors, never re-wired.
"""
