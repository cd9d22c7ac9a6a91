"""Model surgery without surgery: find the layer, read the logits, compile the gradients.

Nothing here changes the user's model: layers are run on real tensors, never re-wired.
"""
