"""What users pass, checked and converted: images, batches, model inputs, targets' arguments,
preprocessing.

May import: ``errors``, NumPy, PIL and Keras (for tensors and input layers). Never the
engine, the methods, the formatters or anything that writes files.
"""
