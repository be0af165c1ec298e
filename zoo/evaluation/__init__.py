"""How good a classifier is, and why: ``zoo.evaluate`` (accuracy, per-class precision / recall
/ F1, the confusion matrix, the most confused pairs, the top-losses gallery), test-time
augmentation, and Grad-CAM heat maps. Used by ``zoo evaluate`` and at the end of every
fine-tune (on its validation split).
"""
